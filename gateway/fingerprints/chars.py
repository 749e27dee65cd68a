"""Per-code-point lookup tables (flags and lower case) for vectorised tokenisation."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WORD = 1  # letters and digits: part of a token
UPPER = 2
DIGIT = 4
SINGLE = 8  # a token on its own: CJK ideographs and kana
SPACE = 16
SENT_END = 32  # . ! ? and their CJK forms: the next word starts a sentence
BREAK = 64  # newline or colon: separates the segments of a template

CJK_START = 0x3040  # no code point below is a lone-character token
_CJK_RANGES = ((CJK_START, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_SENT_END_CHARS = ".!?。！？…"
_BREAK_CHARS = "\n\r\u2028\u2029:："
TABLE_SIZE = 0x10000
FIELD_BITS = 21  # counters packed in one uint64: digits | sentence ends << 21 | breaks << 42
FIELD_MASK = (1 << FIELD_BITS) - 1


@dataclass(frozen=True, slots=True)
class CharTables:
    flags: npt.NDArray[np.uint8]  # per BMP code point; code points beyond use flags 0
    lower: npt.NDArray[np.uint32]  # simple one-to-one lower case
    counters: npt.NDArray[np.uint64]  # per flags value: packed counter increments
    ascii_flags: bytes  # bytes.translate tables of ASCII text: the flags,
    ascii_word: bytes  # 1 for a word character, else 0,
    ascii_space: bytes  # and the whitespace characters (to delete)
    # by (flags of a token's first character) | (flags of the next one) << 8: an upper-case
    # letter followed by a word character of the same token that is not upper case
    titlecase: npt.NDArray[np.bool_]


def _flags_of(ch: str) -> int:
    f = 0
    if ch.isalnum():
        f |= WORD
        if ch.isupper():
            f |= UPPER
        if ch.isdigit():
            f |= DIGIT
    if ch.isspace():
        f |= SPACE
    if ch in _SENT_END_CHARS:
        f |= SENT_END
    if ch in _BREAK_CHARS:
        f |= BREAK
    return f


def _counters() -> npt.NDArray[np.uint64]:
    """Per flags value: 1 digit | 1 sentence end << FIELD_BITS | 1 break << 2 * FIELD_BITS."""
    values = np.arange(256)
    packed: npt.NDArray[np.uint64] = (
        ((values & DIGIT) != 0).astype(np.uint64)
        | (((values & SENT_END) != 0).astype(np.uint64) << np.uint64(FIELD_BITS))
        | (((values & BREAK) != 0).astype(np.uint64) << np.uint64(2 * FIELD_BITS))
    )
    return packed


@functools.cache
def char_tables() -> CharTables:
    """Built once per process (about 50 ms); the arrays are read-only."""
    chars = [chr(c) for c in range(TABLE_SIZE)]
    flags = np.fromiter((_flags_of(ch) for ch in chars), dtype=np.uint8, count=TABLE_SIZE)
    lower = np.fromiter(
        (ord(low) if len(low := ch.lower()) == 1 else ord(ch) for ch in chars),
        dtype=np.uint32,
        count=TABLE_SIZE,
    )
    for first, last in _CJK_RANGES:
        flags[first : last + 1] |= WORD | SINGLE
    counters = _counters()
    for arr in (flags, lower, counters):
        arr.flags.writeable = False
    ascii_flags = bytes(flags[:128].tolist()) + bytes(128)
    pair = np.arange(1 << 16)
    head, nxt = pair & 0xFF, pair >> 8
    titlecase = ((head & UPPER) != 0) & ((nxt & (WORD | UPPER | SINGLE)) == WORD)
    titlecase.flags.writeable = False
    return CharTables(
        flags=flags,
        lower=lower,
        counters=counters,
        ascii_flags=ascii_flags,
        ascii_word=bytes(f & WORD for f in ascii_flags),
        ascii_space=bytes(c for c in range(128) if flags[c] & SPACE),
        titlecase=titlecase,
    )
