"""Vectorised tokenisation: a text becomes numpy arrays of token spans, hashes and flags.

Tokens are runs of letters/digits; CJK ideographs and kana are tokens of one character each
(those scripts do not separate words with spaces). There is no per-token Python: every
step is a handful of numpy operations over the code points or the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.diversity import chars as C
from gateway.diversity.hashing import U64, PrefixHasher, fmix64, stable_hash64

Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]
Spans = tuple[Ints, Ints, Ints]  # sorted, non-overlapping (starts, ends, kinds)

_FIELD = np.uint64(C.FIELD_MASK)
_SHIFT = np.uint64(C.FIELD_BITS)


@dataclass(frozen=True, slots=True)
class Tokens:
    """One text's tokens. Per-token arrays are aligned."""

    text: str  # the (NFKC, capped) text that was tokenised
    cjk: bool  # the text has CJK / kana characters (single-character tokens)
    exact: int  # hash of the text, lower-cased, whitespace removed (0 for blank)
    starts: Ints
    ends: Ints
    hashes: U64  # avalanched hash of each lower-cased token
    has_digit: Bools
    titlecase: Bools  # Upper then lower ("Janet"), not "NASA"
    sentence_initial: Bools  # first word of the text or after . ! ?
    mask_kind: Ints  # -1, or the kind of the pre-masked literal holding the token
    segment: Ints  # index of the line / colon-delimited segment holding the token

    def __len__(self) -> int:
        return len(self.starts)


def _bounds(flags: npt.NDArray[np.uint8], cjk: bool) -> tuple[Ints, Ints]:
    """Token starts and ends: runs of word characters; CJK characters stand alone."""
    n = len(flags)
    word = np.zeros(n + 2, dtype=np.int8)
    np.bitwise_and(flags, C.WORD, out=word[1:-1].view(np.uint8))
    if cjk:
        lone = (flags & C.SINGLE) != 0
        cut = np.ones(n + 1, dtype=np.bool_)
        cut[1:n] = (word[2:-1] != word[1:-2]) | lone[1:] | lone[:-1]
        w = word[1:-1] != 0
        return np.flatnonzero(cut[:n] & w), np.flatnonzero(cut[1:] & w) + 1
    edges = np.flatnonzero(word[1:] != word[:-1])  # alternately a start and an end
    return edges[0::2], edges[1::2]


def _exact(flags: npt.NDArray[np.uint8], lower: npt.NDArray[np.uint32], bmp: bool) -> int:
    """Hash of the lower-cased text without its whitespace (0 for a blank text)."""
    kept = lower[(flags & C.SPACE) == 0]
    if len(kept) == 0:
        return 0
    return stable_hash64(kept.astype("<u2" if bmp else "<u4").tobytes()) or 1


def _characters(
    text: str, tables: C.CharTables
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8], npt.NDArray[np.uint32]]:
    """Code points, their flags and their lower case."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    bmp = len(cps) == 0 or int(cps.max()) < C.TABLE_SIZE
    lowered = text.lower()
    if bmp and len(lowered) == len(cps):  # str.lower is C-fast; it rarely changes the length
        lower = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        return cps, tables.flags[cps], lower
    if bmp:
        return cps, tables.flags[cps], tables.lower[cps]
    small = np.minimum(cps, C.TABLE_SIZE - 1)
    flags = np.where(cps < C.TABLE_SIZE, tables.flags[small], np.uint8(0))
    return cps, flags, np.where(cps < C.TABLE_SIZE, tables.lower[small], cps)


def tokenize(text: str, hasher: PrefixHasher, tables: C.CharTables, spans: Spans | None) -> Tokens:
    """Tokenise ``text`` (NFKC, at most ``hasher.max_len`` characters).

    ``spans`` (from the skeleton's pre-masking) mark literals: tokens inside get their kind.
    """
    cps, flags, lower = _characters(text, tables)
    n = len(cps)
    top = int(cps.max()) if n else 0
    cjk = top >= C.CJK_START and bool((flags & C.SINGLE).any())
    starts, ends = _bounds(flags, cjk)
    prefix = hasher.prefix(lower)
    hashes = fmix64(hasher.span(prefix, starts, ends))

    increments = tables.counters[flags]
    span_kind = None
    if spans is not None:
        span_kind = np.full(n + 1, -1, dtype=np.intp)
        for lo, hi, kind in zip(*(a.tolist() for a in spans), strict=True):
            increments[lo:hi] = 0  # a colon in a URL or a quote does not cut segments
            span_kind[lo:hi] = kind
    counts = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(increments, out=counts[1:])
    at_start, at_end = counts[starts], counts[ends]
    has_digit = ((at_end - at_start) & _FIELD) != 0
    gap = at_start - np.concatenate((counts[:1], at_end[:-1]))  # since the previous token
    sentence_initial = ((gap >> _SHIFT) & _FIELD) != 0
    if len(sentence_initial):
        sentence_initial[0] = True
    segment = np.cumsum((gap >> (_SHIFT + _SHIFT)) != 0)

    first = flags[starts]
    second = flags[np.minimum(starts + 1, max(n - 1, 0))]
    titlecase = ((first & ~second & C.UPPER) != 0) & (ends - starts > 1)
    if span_kind is not None:
        mask_kind = span_kind[starts]
    else:
        mask_kind = np.full(len(starts), -1, dtype=np.intp)
    return Tokens(
        text=text,
        cjk=cjk,
        exact=_exact(flags, lower, top < C.TABLE_SIZE),
        starts=starts,
        ends=ends,
        hashes=hashes,
        has_digit=has_digit,
        titlecase=titlecase,
        sentence_initial=sentence_initial,
        mask_kind=mask_kind,
        segment=segment,
    )
