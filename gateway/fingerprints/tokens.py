"""Tokenisation: a text becomes numpy arrays of token spans, hashes and flags.

Tokens are runs of letters/digits; CJK ideographs and kana are tokens of one character each
(those scripts do not separate words with spaces). The per-character flags and lower case
come from lookup tables (ASCII text, most prompts: ``bytes.translate``, one C pass each);
the tokens, their hashes and flags from one compiled pass over the characters
(:mod:`gateway.fingerprints.scan`). There is no per-token Python. Every path gives the same
tokens, hashes and flags (``tests/unit/test_fingerprint_fastpaths.py``,
``test_fingerprint_golden.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gateway.fingerprints import chars as C
from gateway.fingerprints.hashing import U64, stable_hash64
from gateway.fingerprints.scan import NO_SPANS, scan

Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]
Spans = list[tuple[int, int, int]]  # sorted, non-overlapping (start, end, kind)


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
    # the characters, kept when the exact hash was not made (see exact_of)
    chars: _Chars | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.starts)


def _exact_hash(kept: bytes) -> int:
    """Hash of the lower-cased text without its whitespace (0 for a blank text)."""
    return (stable_hash64(kept) or 1) if kept else 0


class _Chars:
    """One text's characters: flags (with a 0 after the last), lower-cased code points,
    whether it has CJK single-character tokens, the exact hash (0 unless asked for; a
    tokenisation that did not ask keeps these so that :func:`exact_of` can make it later
    without reading the text again)."""

    __slots__ = ("_ascii_lower", "_wide", "cjk", "exact", "flags", "lower")

    def __init__(self, text: str, tables: C.CharTables, exact: bool = True) -> None:
        self.cjk = False
        self.exact = 0
        self._wide = False
        self._ascii_lower: bytes | None = None
        if text.isascii():  # bytes.translate: one C pass per table, no numpy call
            raw = text.encode("ascii")
            low = raw.lower()  # str.lower of ASCII text: same length, same letters
            self.flags = np.frombuffer(raw.translate(tables.ascii_flags) + b"\0", np.uint8)
            self.lower: npt.NDArray[np.uint8] | npt.NDArray[np.uint32] = np.frombuffer(
                low, dtype=np.uint8
            )
            self._ascii_lower = low
            if exact:
                self.exact = self.exact_hash(tables)
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
        else:
            small = np.minimum(cps, C.TABLE_SIZE - 1)
            flags = np.where(cps < C.TABLE_SIZE, tables.flags[small], np.uint8(0))
            self.lower = np.where(cps < C.TABLE_SIZE, tables.lower[small], cps)
            self._wide = True
        self.flags = np.append(flags, np.uint8(0))
        self.cjk = top >= C.CJK_START and bool(((flags & C.SINGLE) != 0).any())
        if exact:
            self.exact = self.exact_hash(tables)

    def exact_hash(self, tables: C.CharTables) -> int:
        """Hash of the lower-cased text without its whitespace (0 for a blank text)."""
        if self._ascii_lower is not None:
            kept = self._ascii_lower.translate(None, tables.ascii_space)
            return _exact_hash(kept.decode("ascii").encode("utf-16-le"))
        keep = (self.flags[:-1] & C.SPACE) == 0
        dtype = "<u4" if self._wide else "<u2"
        return _exact_hash(self.lower[keep].astype(dtype).tobytes())


def exact_hash(text: str, tables: C.CharTables) -> int:
    """The exact hash of a prepared text, as :func:`tokenize` gives it (``Tokens.exact``)."""
    return _Chars(text, tables).exact


def exact_of(tokens: Tokens, tables: C.CharTables) -> int:
    """``tokens``' exact hash: made by the tokenisation, else from the characters it kept
    (the request path tokenises without it; the whole fingerprint needs it after the
    response), else from the text."""
    if tokens.exact:
        return tokens.exact
    if tokens.chars is not None:
        return tokens.chars.exact_hash(tables)
    return exact_hash(tokens.text, tables)


def tokenize(
    text: str,
    tables: C.CharTables,
    spans: Spans | None,
    *,
    exact: bool = True,
) -> Tokens:
    """Tokenise ``text`` (NFKC and capped: see ``Skeletonizer.prepare``).

    ``spans`` (from the skeleton's pre-masking) mark literals: tokens inside get their kind.
    ``exact=False`` leaves the exact hash out (0): the novelty cell does not read it.
    """
    ch = _Chars(text, tables, exact)
    literals = np.array(spans, dtype=np.intp) if spans else NO_SPANS
    starts, ends, hashes, has_digit, titlecase, sentence_initial, mask_kind, segment = scan(
        ch.flags, ch.lower, literals
    )
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
        chars=None if exact else ch,
    )
