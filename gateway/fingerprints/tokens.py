"""Vectorised tokenisation: a text becomes numpy arrays of token spans, hashes and flags.

Tokens are runs of letters/digits; CJK ideographs and kana are tokens of one character each
(those scripts do not separate words with spaces). There is no per-token Python: every
step is a handful of numpy operations over the code points or the tokens (a short loop
runs per pre-masked literal span). ASCII text (most prompts) takes its per-character flags,
word flags, lower case and whitespace-free bytes from ``bytes.translate`` tables: one C pass
each instead of a numpy lookup. Every path gives the same tokens, hashes and flags
(``tests/unit/test_fingerprint_fastpaths.py``, ``test_fingerprint_golden.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.fingerprints import chars as C
from gateway.fingerprints.hashing import U64, PrefixHasher, stable_hash64

Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]
Spans = list[tuple[int, int, int]]  # sorted, non-overlapping (start, end, kind)

_SENTENCE_ENDS = np.uint64(C.FIELD_MASK << C.FIELD_BITS)
_ONE_BREAK = np.uint64(1 << (2 * C.FIELD_BITS))
_ZERO = np.zeros(1, dtype=np.uint64)


@dataclass(frozen=True, slots=True)
class Tokens:
    """One text's tokens. Per-token arrays are aligned."""

    text: str  # the (NFKC, capped) text that was tokenised
    cjk: bool  # the text has CJK / kana characters (single-character tokens)
    exact: int  # hash of the text, lower-cased, whitespace removed (0 for blank or not asked)
    starts: Ints
    ends: Ints
    hashes: U64  # avalanched hash of each lower-cased token
    has_digit: Bools
    titlecase: Bools  # Upper then lower ("Janet"), not "NASA"
    sentence_initial: Bools  # first word of the text or after . ! ?
    mask_kind: Ints  # -1, or the kind of the pre-masked literal holding the token
    literals: bool  # the text has pre-masked literals (else mask_kind is all -1)
    segment: Ints  # index of the line / colon-delimited segment holding the token

    def __len__(self) -> int:
        return len(self.starts)


def _bounds(word: npt.NDArray[np.int8], single: Bools | None) -> Ints:
    """Token edges, alternately a start and an end, from the word flags (padded with a 0 at
    both ends): runs of word characters; with ``single`` (CJK characters), those stand alone."""
    if single is None:
        edges: Ints = np.flatnonzero(word[1:] != word[:-1])
        return edges
    n = len(word) - 2
    cut = np.ones(n + 1, dtype=np.bool_)
    cut[1:n] = (word[2:-1] != word[1:-2]) | single[1:] | single[:-1]
    w = word[1:-1] != 0
    starts = np.flatnonzero(cut[:n] & w)
    edges = np.empty(2 * len(starts), dtype=np.intp)
    edges[0::2] = starts
    edges[1::2] = np.flatnonzero(cut[1:] & w) + 1
    return edges


def _exact_hash(kept: bytes) -> int:
    """Hash of the lower-cased text without its whitespace (0 for a blank text)."""
    return (stable_hash64(kept) or 1) if kept else 0


class _Chars:
    """One text's characters: flags (with a 0 after the last), lower-cased code points, word
    flags padded with a 0 at both ends, CJK single-character flags, the exact hash."""

    __slots__ = ("cjk", "exact", "flags", "lower", "single", "word")

    def __init__(self, text: str, tables: C.CharTables, exact: bool = True) -> None:
        self.single: Bools | None = None
        self.cjk = False
        self.exact = 0
        if text.isascii():  # bytes.translate: one C pass per table, no numpy call
            raw = text.encode("ascii")
            low = raw.lower()  # str.lower of ASCII text: same length, same letters
            self.flags = np.frombuffer(raw.translate(tables.ascii_flags) + b"\0", np.uint8)
            self.lower: npt.NDArray[np.uint8] | npt.NDArray[np.uint32] = np.frombuffer(
                low, dtype=np.uint8
            )
            word = b"\0" + raw.translate(tables.ascii_word) + b"\0"
            self.word = np.frombuffer(word, dtype=np.int8)
            if exact:
                kept = low.translate(None, tables.ascii_space)
                self.exact = _exact_hash(kept.decode("ascii").encode("utf-16-le"))
            return
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        top = int(cps.max())
        lowered = text.lower()
        if top < C.TABLE_SIZE:
            flags = tables.flags[cps]
            if len(lowered) == len(cps):  # str.lower is C-fast; it rarely changes the length
                self.lower = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), "<u4")
            else:
                self.lower = tables.lower[cps]
            if exact:
                self.exact = _exact_hash(self._kept(flags, "<u2"))
        else:
            small = np.minimum(cps, C.TABLE_SIZE - 1)
            flags = np.where(cps < C.TABLE_SIZE, tables.flags[small], np.uint8(0))
            self.lower = np.where(cps < C.TABLE_SIZE, tables.lower[small], cps)
            if exact:
                self.exact = _exact_hash(self._kept(flags, "<u4"))
        self.flags = np.append(flags, np.uint8(0))
        self.word = np.zeros(len(cps) + 2, dtype=np.int8)
        np.bitwise_and(flags, C.WORD, out=self.word[1:-1].view(np.uint8))
        if top >= C.CJK_START:
            single = (flags & C.SINGLE) != 0
            if single.any():
                self.single, self.cjk = single, True

    def _kept(self, flags: npt.NDArray[np.uint8], dtype: str) -> bytes:
        kept: bytes = self.lower[(flags & C.SPACE) == 0].astype(dtype).tobytes()
        return kept


def _apply_spans(increments: U64, starts: Ints, spans: Spans) -> Ints:
    """The kind of the span holding each token (-1: none); no counter counts inside a span
    (a colon in a URL or a quote does not cut segments). (A vectorised form, np.repeat over
    the runs, measured no faster even with 15 spans.)"""
    kinds = np.full(len(starts), -1, dtype=np.intp)
    m = len(spans)
    bounds = [lo for lo, _, _ in spans] + [hi for _, hi, _ in spans]
    first = np.searchsorted(starts, bounds).tolist()  # the first token at or after
    for (lo, hi, kind), a, b in zip(spans, first[:m], first[m:], strict=True):
        increments[lo:hi] = 0
        kinds[a:b] = kind
    return kinds


def tokenize(
    text: str,
    hasher: PrefixHasher,
    tables: C.CharTables,
    spans: Spans | None,
    *,
    exact: bool = True,
) -> Tokens:
    """Tokenise ``text`` (NFKC, at most ``hasher.max_len`` characters).

    ``spans`` (from the skeleton's pre-masking) mark literals: tokens inside get their kind.
    ``exact=False`` leaves the exact hash out (0): the novelty cell does not read it.
    """
    ch = _Chars(text, tables, exact)
    flags = ch.flags  # one longer than the text: its last entry is 0
    edges = _bounds(ch.word, ch.single)
    starts, ends = edges[0::2], edges[1::2]
    hashes = hasher.token_hashes(ch.lower, edges)

    increments = tables.counters[flags]
    if spans:
        mask_kind = _apply_spans(increments, starts, spans)
    else:
        mask_kind = np.full(len(starts), -1, dtype=np.intp)
    counts = np.empty(len(flags) + 1, dtype=np.uint64)
    counts[0] = 0
    np.cumsum(increments, out=counts[1:])
    at_edges = counts[edges]
    # counter steps: the gap before token i at 2i, its inside at 2i+1. Packed counters never
    # borrow across fields, and a token holds no sentence end nor break: inside, only digits
    steps = at_edges - np.concatenate((_ZERO, at_edges[:-1]))
    has_digit = steps[1::2] != 0
    gap = steps[0::2]
    sentence_initial = (gap & _SENTENCE_ENDS) != 0
    if len(sentence_initial):
        sentence_initial[0] = True
    segment = (gap >= _ONE_BREAK).astype(np.intp).cumsum()  # breaks are the top field
    # (first character, next character) as one uint16 per position: one lookup
    pairs = np.ndarray((len(flags) - 1,), dtype="<u2", buffer=flags, strides=(1,))
    titlecase = tables.titlecase[pairs[starts]]
    return Tokens(
        text=text,
        cjk=ch.cjk,
        exact=ch.exact,
        starts=starts,
        ends=ends,
        hashes=hashes,
        has_digit=has_digit,
        titlecase=titlecase,
        sentence_initial=sentence_initial,
        mask_kind=mask_kind,
        literals=bool(spans),
        segment=segment,
    )
