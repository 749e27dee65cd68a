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

Cost: ASCII text (most prompts) is one ``isascii`` check; other text vectorised passes over
its code points (a table of what each one is: its runs of Latin-looking letters and of
invisible characters are found with numpy, never with a regex, whose classes of a thousand
scattered characters cost milliseconds a prompt), and Python work only for the words that
change.
"""

from __future__ import annotations

import functools
import string
import sys
import unicodedata
from collections.abc import Callable

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


class Lookalikes:
    """Built once per process (the confusables data and a table of what each code point
    is: ~1 s the first time, cached for the process)."""

    def __init__(self) -> None:
        lookalikes = latin_lookalikes()
        self._table = str.maketrans(lookalikes)
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
        out = text
        if hidden:
            out = _spliced(text, _hidden_runs(self._kinds[points]), lambda _: "")
            points = np.frombuffer(out.encode("utf-32-le", "surrogatepass"), "<u4")
        if look:
            words = _candidate_words(self._kinds[points])
            out = _spliced(out, words, lambda word: self._word_plain(word, latin))
        return out if out != text else None

    def _word_plain(self, word: str, latin: bool) -> str:
        """A word of Latin and look-alike letters, mapped when it mixes them or the text
        is Latin-script (a word of look-alikes alone in a Russian text is Russian)."""
        if latin or (not word.isascii() and any(c in _ASCII_LETTERS for c in word)):
            return word.translate(self._table)
        return word


_ASCII_LETTERS = frozenset(string.ascii_letters)
# what each code point is to :func:`_flags` (one byte per code point, 1.1 MB per process)
_LETTER, _LOOK, _HIDDEN, _ALPHA = 1, 2, 4, 8


@functools.cache
def _kinds() -> npt.NDArray[np.uint8]:
    kinds = np.zeros(sys.maxunicode + 1, dtype=np.uint8)
    # a word's letter, as a regex's [^\W\d_] reads it: alphanumeric, not a decimal digit
    kinds[[c for c in range(sys.maxunicode + 1) if _wordish(chr(c))]] = _ALPHA
    kinds[[ord(c) for c in string.ascii_letters]] |= _LETTER
    kinds[[ord(c) for c in latin_lookalikes()]] |= _LOOK
    kinds[[ord(c) for c in _invisible()]] |= _HIDDEN
    kinds.flags.writeable = False
    return kinds


def _wordish(char: str) -> bool:
    return char.isalnum() and not char.isdecimal()


def _flags(points: npt.NDArray[np.uint32], kinds: npt.NDArray[np.uint8]) -> tuple[bool, bool, bool]:
    """(an invisible character may sit between two Latin-looking letters, a look-alike letter
    may be in a word to map, the text is Latin-script: :data:`LATIN_SHARE` of its characters
    ASCII), vectorised over the text's code points and their kinds, so that text with
    neither (other scripts, accented Latin) costs no further pass."""
    latin = int((points < 128).sum()) >= LATIN_SHARE * len(points)
    hidden = bool((kinds & _HIDDEN).any()) and bool((kinds & (_LETTER | _LOOK)).any())
    look = (kinds & _LOOK) != 0
    if not look.any():
        return hidden, False, latin
    if latin:
        return hidden, True, latin
    letter = (kinds & _LETTER) != 0
    return hidden, bool(((letter[:-1] & look[1:]) | (look[:-1] & letter[1:])).any()), latin


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(starts, ends) of the runs of True in ``mask`` (ends exclusive)."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[::2], edges[1::2]


def _hidden_runs(kinds: npt.NDArray[np.uint8]) -> list[tuple[int, int]]:
    """(start, end) of each run of invisible characters between two Latin-looking letters."""
    starts, ends = _runs((kinds & _HIDDEN) != 0)
    latinish = np.concatenate(([False], (kinds & (_LETTER | _LOOK)) != 0, [False]))
    chosen = latinish[starts] & latinish[ends + 1]  # the characters before and after
    return list(zip(starts[chosen].tolist(), ends[chosen].tolist(), strict=True))


def _candidate_words(kinds: npt.NDArray[np.uint8]) -> list[tuple[int, int]]:
    """(start, end) of each whole word (no letter of another kind before or after it) of
    Latin and look-alike letters holding a look-alike: vectorised, linear in the text."""
    starts, ends = _runs((kinds & (_LETTER | _LOOK)) != 0)
    if not len(starts):
        return []
    looks = np.add.reduceat(((kinds & _LOOK) != 0).astype(np.int32), starts) > 0
    alpha = np.concatenate(([False], (kinds & _ALPHA) != 0, [False]))
    whole = ~alpha[starts] & ~alpha[ends + 1]  # the characters before and after
    chosen = looks & whole
    return list(zip(starts[chosen].tolist(), ends[chosen].tolist(), strict=True))


def _spliced(text: str, spans: list[tuple[int, int]], plain: Callable[[str], str]) -> str:
    """``text`` with each span replaced by ``plain`` of it."""
    pieces, done = [], 0
    for start, end in spans:
        pieces.append(text[done:start])
        pieces.append(plain(text[start:end]))
        done = end
    return "".join(pieces) + text[done:]
