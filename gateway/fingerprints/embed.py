"""Prompt embeddings: the ``Embedder`` protocol and the default hashed n-gram embedder.

The default needs no model. Features of the content words (skeleton words that are not
masked literals, except names and quoted text which carry topic; function and courtesy words
dropped):

* each word (weight 1),
* character bigrams across adjacent CJK / kana characters, which carry no spaces (weight 1).

Each feature is signed-hashed into ``dim`` buckets (multiply-shift) and the vector is
L2-normalised: a handful of numpy operations over the tokens. (Word-prefix "stems" were
measured and did not change cell collisions of paraphrases, so they are left out.) A
packaged static embedding model can replace it through the protocol; it then receives the
selected text.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from gateway.fingerprints.compiled import compiled
from gateway.fingerprints.hashing import U64, combine
from gateway.fingerprints.skeleton import KINDS, NAME, QUOTE, Skeleton, Skeletonizer
from gateway.fingerprints.stopwords import stopwords
from gateway.fingerprints.tokens import Ints

Vector = npt.NDArray[np.float32]
_STOP_BITS = 16
_BIGRAM_TAG = 0xC1C2
_MIX = np.uint64(0xD6E8FEB86659FD93)
_SIGN_SHIFT = np.uint64(54)  # the bit just below the index bits (dim <= 512)
_ONE = np.uint64(1)
_LOW16 = np.uint64(0xFFFF)


@compiled()
def _content_vector(
    hashes: Any,
    token_index: Any,
    token_kinds: Any,
    token_segment: Any,
    by_segment: bool,
    segment: int,
    topical: Any,
    content: Any,
    shift: Any,
    dim: int,
) -> Any:  # pragma: no cover - compiled
    """The fast path's vector in one compiled pass (no CJK bigrams): the content tokens
    (:meth:`HashedNgramEmbedder.content`; of ``segment`` when ``by_segment``), signed-hashed
    into ``dim`` exact integer sums, L2-normalised in float64 and then float32, as
    :meth:`HashedNgramEmbedder._vector` computes them. None when no token is content."""
    signed = np.zeros(dim, dtype=np.int64)
    found = False
    last = len(topical) - 1
    for j in range(len(token_index)):
        kind = token_kinds[j]
        if not topical[kind if kind >= 0 else last]:
            continue
        i = token_index[j]
        h = hashes[i]
        if not content[np.intp(h & _LOW16)] or (by_segment and token_segment[i] != segment):
            continue
        found = True
        mixed = h * _MIX
        bucket = np.intp(mixed >> shift)
        if (mixed >> _SIGN_SHIFT) & _ONE:
            signed[bucket] -= 1
        else:
            signed[bucket] += 1
    if not found:
        return None
    total = 0
    for k in range(dim):
        total += signed[k] * signed[k]
    norm = math.sqrt(float(total))
    out = np.empty(dim, dtype=np.float32)
    for k in range(dim):
        out[k] = signed[k] / norm if norm > 0 else signed[k]
    return out


@runtime_checkable
class Embedder(Protocol):
    """Text -> float32 vector of length ``dim`` (unit length, or all zeros for no text)."""

    @property
    def dim(self) -> int: ...

    def embed(self, text: str) -> Vector: ...


class HashedNgramEmbedder:
    """Signed feature hashing of content words and CJK character bigrams."""

    def __init__(
        self,
        dim: int = 512,
        skeletonizer: Skeletonizer | None = None,
    ) -> None:
        if not 8 <= dim <= 512 or dim & (dim - 1):
            raise ValueError("dim must be a power of two within 8..512")
        self._dim = dim
        self._shift = np.uint64(64 - dim.bit_length() + 1)
        self.skeletonizer = skeletonizer or Skeletonizer()
        stop = self.skeletonizer.tokenize(" ".join(stopwords())).hashes
        table = np.zeros(1 << _STOP_BITS, dtype=np.bool_)
        table[(stop & np.uint64((1 << _STOP_BITS) - 1)).astype(np.intp)] = True
        table.flags.writeable = False
        self._stop = table  # a ~0.6 % false-positive bitmap is fine for dropping words
        self._content = ~table  # indexed by the low 16 bits of a word's hash
        self._content.flags.writeable = False
        topical = np.zeros(len(KINDS) + 1, dtype=np.bool_)  # by kind; -1 (a word) is last
        topical[[-1, NAME, QUOTE]] = True
        topical.flags.writeable = False
        self._topical = topical
        self.embed("a")  # compile the fast path's pass now, not mid-request

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, text: str) -> Vector:
        sk = self.skeletonizer.skeleton(text)
        return self.embed_skeleton(sk)

    def content(self, sk: Skeleton, segment: int | None = None) -> Ints:
        """Tokens that carry topic: words, names and quoted words, no stop words; only those
        of ``segment`` (the body of a template) when given."""
        tokens = sk.tokens
        index = sk.token_index
        capped = len(index) < len(tokens)
        words = tokens.hashes[index] if capped else tokens.hashes
        keep = self._topical[sk.token_kinds] & self._content[words.astype(np.uint16)]
        if segment is not None:
            keep &= (tokens.segment[index] if capped else tokens.segment) == segment
        chosen: Ints = index[keep]
        return chosen

    def embed_skeleton(self, sk: Skeleton, segment: int | None = None) -> Vector:
        """Embed a skeleton's content tokens (of one segment when given): the fast path
        (one compiled pass unless the text has CJK characters: their bigrams)."""
        toks = sk.tokens
        if not toks.cjk:
            vector: Vector | None = _content_vector(
                toks.hashes, sk.token_index, sk.token_kinds, toks.segment, segment is not None,
                -1 if segment is None else segment, self._topical, self._content, self._shift,
                self._dim,
            )  # fmt: skip
            return np.zeros(self._dim, dtype=np.float32) if vector is None else vector
        idx = self.content(sk, segment)
        if len(idx) == 0:
            return np.zeros(self._dim, dtype=np.float32)
        words = toks.hashes[idx]
        if toks.cjk:
            adjacent = toks.ends[idx[:-1]] == toks.starts[idx[1:]]  # no space between
            if adjacent.any():
                pairs = combine(words[:-1][adjacent], words[1:][adjacent], _BIGRAM_TAG)
                words = np.concatenate((words, pairs))
        return self._vector(words)

    def _vector(self, feats: U64) -> Vector:
        mixed = feats * _MIX  # multiply-shift: the top bits of the product are well mixed
        if self._shift == _SIGN_SHIFT + 1:  # dim 512: index and sign are the top 10 bits
            counts = np.bincount((mixed >> _SIGN_SHIFT).astype(np.intp), minlength=2 * self._dim)
            signed = counts[0::2] - counts[1::2]  # exact integers, as float sums of +-1 are
        else:
            idx = (mixed >> self._shift).astype(np.intp)
            signs = np.where((mixed >> _SIGN_SHIFT) & _ONE, -1.0, 1.0)
            signed = np.bincount(idx, weights=signs, minlength=self._dim)
        norm = math.sqrt(float(signed @ signed))
        out: Vector = (signed / norm if norm > 0 else signed).astype(np.float32)  # signs cancel
        return out
