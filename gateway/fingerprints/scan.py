"""The tokeniser's scan: one compiled pass over a text's characters (numba, a prebuilt wheel;
no build toolchain at install time), instead of some twenty numpy calls of a few hundred
elements each, whose fixed cost dominated a prompt's fingerprint.

From the per-character flags (``chars``), the lower-cased code points and the literal spans,
it finds the tokens (runs of word characters; CJK characters alone) and, per token, its
hash (the polynomial hash of its lower-cased code points, avalanched: the value
``PrefixHasher.token_hashes`` defines), whether it holds a digit, is Titlecase, starts a
sentence, the kind of the literal span holding it, and its segment. Digits, sentence ends
and breaks inside a literal span do not count, as before. How it is compiled (and cached):
:mod:`gateway.fingerprints.compiled`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.fingerprints import chars as C
from gateway.fingerprints.compiled import compiled

_WORD = np.uint8(C.WORD)
_UPPER = np.uint8(C.UPPER)
_DIGIT = np.uint8(C.DIGIT)
_SINGLE = np.uint8(C.SINGLE)
_SENT_END = np.uint8(C.SENT_END)
_BREAK = np.uint8(C.BREAK)
_BASE = np.uint64(0x100000001B3)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
NO_SPANS = np.zeros((0, 3), dtype=np.intp)


@compiled()
def scan(flags: Any, lower: Any, spans: Any) -> Any:  # pragma: no cover - compiled
    """``flags``: uint8 per character plus a trailing 0; ``lower``: the lower-cased code
    points; ``spans``: (m, 3) sorted non-overlapping (start, end, kind). Returns the arrays
    (starts, ends, hashes, has_digit, titlecase, sentence_initial, mask_kind, segment)."""
    n = len(lower)
    starts = np.empty(n, dtype=np.intp)
    ends = np.empty(n, dtype=np.intp)
    hashes = np.empty(n, dtype=np.uint64)
    has_digit = np.empty(n, dtype=np.bool_)  # every entry up to ``count`` is written
    titlecase = np.empty(n, dtype=np.bool_)
    initial = np.empty(n, dtype=np.bool_)
    kinds = np.empty(n, dtype=np.intp)
    segment = np.empty(n, dtype=np.intp)
    count = 0
    seg = 0
    sentence = True  # the first token starts a sentence
    breaks = False
    span = 0
    m = len(spans)
    i = 0
    while i < n:
        while span < m and spans[span, 1] <= i:
            span += 1
        inside = span < m and spans[span, 0] <= i
        f = flags[i]
        if (f & _WORD) == 0:
            if not inside:
                if f & _SENT_END:
                    sentence = True
                if f & _BREAK:
                    breaks = True
            i += 1
            continue
        # a token starts at i: a run of word characters, or one CJK character
        start = i
        digit = False
        h = np.uint64(0)
        power = np.uint64(1)
        if f & _SINGLE:
            h = np.uint64(lower[i])
            if (f & _DIGIT) and not inside:
                digit = True
            i += 1
        else:
            while i < n and (flags[i] & _WORD) and not (flags[i] & _SINGLE):
                h += np.uint64(lower[i]) * power
                power *= _BASE
                if (flags[i] & _DIGIT) and not _in_span(spans, span, i):
                    digit = True
                i += 1
        h ^= h >> _S33
        h *= _M1
        h ^= h >> _S33
        h *= _M2
        h ^= h >> _S33
        if breaks:
            seg += 1
        first = flags[start]
        nxt = flags[start + 1]
        starts[count] = start
        ends[count] = i
        hashes[count] = h
        has_digit[count] = digit
        titlecase[count] = (first & _UPPER) != 0 and (nxt & (_WORD | _UPPER | _SINGLE)) == _WORD
        initial[count] = sentence
        kinds[count] = spans[span, 2] if inside else -1
        segment[count] = seg
        count += 1
        sentence = False
        breaks = False
    return (
        starts[:count],
        ends[:count],
        hashes[:count],
        has_digit[:count],
        titlecase[:count],
        initial[:count],
        kinds[:count],
        segment[:count],
    )


@compiled(inline="always")
def _in_span(spans: Any, span: int, i: int) -> bool:  # pragma: no cover - compiled
    """Character ``i`` lies in a literal span (``span``: the first not ending before the
    token's start; a token may run into the next span)."""
    while span < len(spans) and spans[span, 1] <= i:
        span += 1
    return span < len(spans) and spans[span, 0] <= i
