"""Encoded text made plain: the words a prompt hides in base64, hex, a letter cipher or
look-alike letters.

A prompt may carry its task encoded (base64, hex, a Caesar shift such as ROT13, Atbash,
words written backwards) under a short plain ask ("decode this and answer it"): the model
reads it, the elicitation lexicon and the topic embedding do not. :meth:`Revealer.reveal`
returns the prompt with each such span replaced by its plain text, or ``None`` when it
holds none, so that detection fingerprints what the model is asked (after the response,
never on the request path: budgets charge what they always charged).

Cheap on ordinary text, where it finds nothing; it reads the tokens the fingerprint made:

* **base64 / hex**: looked for only when a token is at least :data:`LONG_TOKEN`
  characters long; then runs of at least :data:`MIN_RUN` characters of the alphabet count
  when they decode to UTF-8 text that reads as words (letters and spaces). Identifiers,
  hashes, keys and pictures do not.
* **letter ciphers**: the most common English words as every cipher writes them (``gur``
  is ROT13's "the") are found among the tokens by one bitmap lookup; a cipher is tried only
  when at least :data:`MIN_MARKERS` distinct ones of its forms occur, and only on the lines
  holding them; a line is kept deciphered when it then reads as English (at least
  :data:`MIN_MARKERS` distinct common words, :data:`MIN_COMMON_SHARE` of its words) and
  before did not.
* **look-alike letters and invisible characters** in Latin-script words ("ѕtер" in
  Cyrillic letters, "st\u200bep"): :mod:`gateway.fingerprints.lookalikes`, first.

At most :data:`MAX_CHARS` characters are decoded per prompt; decoding runs twice at most
(base64 of a ROT13 text).
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from typing import Any

from gateway.fingerprints.lexicon import bitmap_hits, bitmap_of
from gateway.fingerprints.lookalikes import Lookalikes
from gateway.fingerprints.skeleton import Skeletonizer
from gateway.fingerprints.tokens import Tokens

LONG_TOKEN = 16  # a token this long may be part of a base64 / hex run
MIN_RUN = 24  # characters of a base64 / hex run (18 bytes of text)
MAX_CHARS = 8_000  # decoded per prompt
MIN_MARKERS = 2  # distinct common words, as one cipher writes them
MIN_COMMON_SHARE = 0.15  # a deciphered line: the share of its words that are common ones
MIN_WORDY = 0.6  # a decoded run: the share of its characters that are letters or spaces
DEPTH = 2
_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/_-")
_RUN = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_RUN},}}={{0,2}}")
_WORD = re.compile(r"[a-z]+")
_HEX = frozenset(string.hexdigits)
# the most common English words (a text of twenty words holds a few of them)
COMMON = frozenset(("the", "and", "of", "to", "is", "you", "that", "in", "it", "for", "with"))
# those whose cipher forms are looked for (a two-letter form is too often a word or a unit:
# "up", "do", "id", "cm")
MARKED = frozenset(w for w in COMMON if len(w) >= 3)
_LOWER = string.ascii_lowercase
Table = dict[int, int] | None  # a deciphering translation; None: words written backwards


def _table(plain_of: list[str]) -> dict[int, int]:
    """A translation (both cases) mapping each letter to ``plain_of[its index]``."""
    table = {ord(c): ord(p) for c, p in zip(_LOWER, plain_of, strict=True)}
    table.update({ord(c.upper()): ord(p.upper()) for c, p in zip(_LOWER, plain_of, strict=True)})
    return table


def ciphers() -> dict[str, Table]:
    """Every cipher tried, by name: its deciphering translation."""
    found: dict[str, Table] = {
        f"shift{k}": _table([_LOWER[(i - k) % 26] for i in range(26)]) for k in range(1, 26)
    }
    found["atbash"] = _table([_LOWER[25 - i] for i in range(26)])
    found["reversed"] = None
    return found


def _enciphered(word: str, table: Table) -> str:
    if table is None:
        return word[::-1]
    inverse = {v: k for k, v in table.items()}
    return word.translate(inverse)


def _decipher(line: str, table: Table) -> str:
    return line[::-1] if table is None else line.translate(table)


def _reads_better(plain: str, line: str) -> bool:
    """Whether a deciphered line reads as English and its cipher text does not: at least
    :data:`MIN_MARKERS` distinct common words, :data:`MIN_COMMON_SHARE` of its words (prose
    holds a quarter or more), more than the cipher text holds."""
    words = _WORD.findall(plain.lower())
    found = [w for w in words if w in COMMON]
    if len(set(found)) < MIN_MARKERS or len(found) < MIN_COMMON_SHARE * len(words):
        return False
    return len(found) > sum(1 for w in _WORD.findall(line.lower()) if w in COMMON)


def decoded_run(run: str) -> str | None:
    """The text a base64 or hex run encodes, when it reads as words."""
    body = run.rstrip("=")
    raw: bytes | None = None
    if len(body) % 2 == 0 and all(c in _HEX for c in body):
        raw = bytes.fromhex(body)
    else:
        try:
            padded = body.replace("-", "+").replace("_", "/") + "=" * (-len(body) % 4)
            raw = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    wordy = sum(1 for c in text if c.isalpha() or c == " ")
    return text if " " in text and wordy >= MIN_WORDY * len(text) else None


class Revealer:
    """Built once per process (the ciphers' word forms as token hashes)."""

    def __init__(self, skeletonizer: Skeletonizer) -> None:
        self.skeletonizer = skeletonizer
        self._ciphers = ciphers()
        owner: dict[int, tuple[str, str]] = {}  # token hash -> (cipher, the form)
        for name, table in self._ciphers.items():
            for word in sorted(MARKED):
                form = _enciphered(word, table)
                if form in COMMON:  # "ti" is "it" backwards: no evidence either way
                    continue
                for h in self.skeletonizer.tokenize(form).hashes.tolist():
                    owner.setdefault(h, (name, form))
        self._owner = owner
        self._bitmap: Any = bitmap_of(owner)
        self._lookalikes = Lookalikes()

    def reveal(self, tokens: Tokens) -> str | None:
        """The tokenised text with its encoded spans made plain (``None``: none)."""
        result = self._lookalikes.plain(tokens.text)
        if result is not None:  # look-alike letters, invisible characters: read again
            tokens = self._tokens(result)
        for _ in range(DEPTH):
            step = self._decoded(tokens)
            if step is not None:
                tokens = self._tokens(step)
            ciphered = self._ciphered(tokens)
            if ciphered is not None:
                step, tokens = ciphered, self._tokens(ciphered)
            if step is None:
                break
            result = step
        return result

    def _tokens(self, text: str) -> Tokens:
        """A made-plain text's tokens (no exact hash: only the lexicon's hashes are read)."""
        return self.skeletonizer.tokenize(text, exact=False)

    def _decoded(self, tokens: Tokens) -> str | None:
        """The text with its base64 / hex runs decoded (``None``: none). A run is looked
        for only around the tokens at least :data:`LONG_TOKEN` characters long."""
        lengths = tokens.ends - tokens.starts
        if not len(tokens) or int(lengths.max()) < LONG_TOKEN:
            return None
        text, budget, out, done = tokens.text, MAX_CHARS, [], 0
        for index in (lengths >= LONG_TOKEN).nonzero()[0].tolist():
            start = int(tokens.starts[index])
            if start < done:  # inside a run already read
                continue
            while start > done and text[start - 1] in _ALPHABET:
                start -= 1
            found = _RUN.match(text, start)
            if found is None:
                continue
            decoded = decoded_run(found.group()) if budget > 0 else None
            if decoded is not None:
                out.append(f"{text[done:start]} {decoded} ")
                budget -= found.end() - start
                done = found.end()
        return "".join(out) + text[done:] if out else None

    def _ciphered(self, tokens: Tokens) -> str | None:
        """The text with its lines written in a letter cipher deciphered (``None``: none)."""
        hits = bitmap_hits(tokens.hashes, self._bitmap)
        if len(hits) < MIN_MARKERS:
            return None
        forms: dict[str, set[str]] = {}
        for h in tokens.hashes[hits].tolist():
            found = self._owner.get(h)
            if found is not None:
                forms.setdefault(found[0], set()).add(found[1])
        if not forms:
            return None
        name, markers = max(forms.items(), key=lambda item: len(item[1]))
        if len(markers) < MIN_MARKERS:
            return None
        table, budget, changed, out = self._ciphers[name], MAX_CHARS, False, []
        for line in tokens.text.split("\n"):
            if budget > 0 and markers & set(_WORD.findall(line.lower())):
                plain = _decipher(line, table)
                if _reads_better(plain, line):
                    out.append(plain)
                    budget -= len(line)
                    changed = True
                    continue
            out.append(line)
        return "\n".join(out) if changed else None
