"""Look-alike letters and invisible characters in Latin-script words, made plain.

"Step by step" written with Cyrillic or Greek letters that look Latin ("ѕtер bу ѕtер"), or
with an invisible character inside each word ("st\\u200bep"), reads the same to a model and
to a person; a word list sees other words (or broken ones). :class:`Lookalikes` maps such
letters to the Latin letter they imitate (the Unicode confusables data of UTS #39, from the
``confusable-homoglyphs`` package) and drops invisible format characters (Unicode category
Cf: zero-width spaces and joiners, soft hyphens, word joiners) between two Latin-looking
letters, so detection reads the words as written to be read. NFKC (applied before) already
folds full-width and mathematical letters.

Scope, so that other scripts are left as they are: only whole words of Latin and look-alike
letters change (a Russian word with one letter that has no Latin look-alike, "код", stays
as it is); in a text whose characters are mostly ASCII (:data:`LATIN_SHARE`) every such
word, elsewhere only the words that mix ASCII letters with look-alikes ("ѕtер" mixes; the
Russian "сор" does not). Invisible characters are dropped only between two Latin-looking letters (a
zero-width non-joiner inside a Persian word stays).

Cost: ASCII text (most prompts) is one ``isascii`` check; other text one vectorised pass
over its code points (a table of what each one is), and regex scans only for a text that
has an invisible character or a look-alike beside an ASCII letter (or in a mostly-Latin
text): Russian, Chinese or accented text with neither costs ~10 µs at 3,000 characters.
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata

import numpy as np
import numpy.typing as npt
from confusable_homoglyphs import confusables

LATIN_SHARE = 0.9  # of a text's characters ASCII: a Latin-script text


@functools.cache
def latin_lookalikes() -> dict[str, str]:
    """Each non-ASCII letter whose confusable is one ASCII letter -> that letter."""
    table: dict[str, str] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii() or not char.isalpha():
            continue
        for glyph in glyphs:
            latin = glyph.get("c", "")
            if len(latin) == 1 and latin.isascii() and latin.isalpha():
                table[char] = latin
                break
    return table


@functools.cache
def _invisible() -> str:
    """The format characters (category Cf)."""
    return "".join(
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    )


def _members(chars: str) -> str:
    return "".join(re.escape(c) for c in sorted(chars))


class Lookalikes:
    """Built once per process (the confusables data and the Cf characters: ~0.5 s the
    first time, cached for the process)."""

    def __init__(self) -> None:
        lookalikes = latin_lookalikes()
        self._table = str.maketrans(lookalikes)
        looks = _members("".join(lookalikes))
        latinish = f"A-Za-z{looks}"
        # a whole word (no letter of another kind before or after it) of Latin and
        # look-alike letters holding a look-alike; tried at word starts only: linear
        self._word = re.compile(rf"(?<![^\W\d_])[{latinish}]*[{looks}][{latinish}]*(?![^\W\d_])")
        self._hidden = re.compile(f"(?<=[{latinish}])[{_members(_invisible())}]+(?=[{latinish}])")
        self._kinds = _kinds()

    def plain(self, text: str) -> str | None:
        """``text`` with look-alike letters and invisible characters inside Latin-script
        words made plain, or ``None`` when it holds none."""
        if text.isascii():
            return None
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), "<u4")
        hidden, look, latin = _flags(points, self._kinds[points])
        if not hidden and not look:  # other scripts, accents: most non-ASCII text
            return None
        out = self._hidden.sub("", text) if hidden else text
        if look:
            out = self._word.sub(lambda m: self._word_plain(m.group(), latin), out)
        return out if out != text else None

    def _word_plain(self, word: str, latin: bool) -> str:
        """A word of Latin and look-alike letters, mapped when it mixes them or the text
        is Latin-script (a word of look-alikes alone in a Russian text is Russian)."""
        if latin or (not word.isascii() and any(c in _ASCII_LETTERS for c in word)):
            return word.translate(self._table)
        return word


_ASCII_LETTERS = frozenset(string.ascii_letters)
# what each code point is to :func:`_flags` (one byte per code point, 1.1 MB per process)
_LETTER, _LOOK, _HIDDEN = 1, 2, 4


@functools.cache
def _kinds() -> npt.NDArray[np.uint8]:
    kinds = np.zeros(sys.maxunicode + 1, dtype=np.uint8)
    kinds[[ord(c) for c in string.ascii_letters]] = _LETTER
    kinds[[ord(c) for c in latin_lookalikes()]] = _LOOK
    kinds[[ord(c) for c in _invisible()]] = _HIDDEN
    kinds.flags.writeable = False
    return kinds


def _flags(points: npt.NDArray[np.uint32], kinds: npt.NDArray[np.uint8]) -> tuple[bool, bool, bool]:
    """(an invisible character may sit between two Latin-looking letters, a look-alike letter
    may be in a word to map, the text is Latin-script: :data:`LATIN_SHARE` of its characters
    ASCII), vectorised over the text's code points and their kinds, so that text with
    neither (other scripts, accented Latin) costs no regex scan."""
    latin = int((points < 128).sum()) >= LATIN_SHARE * len(points)
    hidden = bool((kinds == _HIDDEN).any()) and bool(((kinds & (_LETTER | _LOOK)) != 0).any())
    look = kinds == _LOOK
    if not look.any():
        return hidden, False, latin
    if latin:
        return hidden, True, latin
    letter = kinds == _LETTER
    return hidden, bool(((letter[:-1] & look[1:]) | (look[:-1] & letter[1:])).any()), latin
