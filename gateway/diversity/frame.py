"""Frame hash: the template around the variable part of a prompt.

Harvesters wrap whole questions in a template ("Solve step by step:\\n{question}\\nAnswer:").
The skeleton hash then differs per question, but the *frame* does not. Segments are lines
and colon-delimited parts ("Question: ..."); the body is the segment with the most skeleton
tokens, and the frame is everything else, with the body replaced by a marker. A prompt that
is one segment, or whose frame has fewer than ``min_tokens`` tokens, has no frame (0): a
single unstructured paragraph gives no template evidence, and 0 must not look like a shared
template to the detectors.

Limits (documented, measured in the tests): a template that joins the question without a
newline or colon ("{question} Let's think step by step.") has no frame; SimHash bands and
the elicitation lexicon carry that case. A multi-line question keeps its other lines in the
frame, so its frame stays diverse.
"""

from __future__ import annotations

import numpy as np

from gateway.diversity.hashing import hash_sequence
from gateway.diversity.skeleton import Skeleton
from gateway.diversity.tokens import Bools

_BODY = np.array([0xB0D7B0D7B0D7B0D7], dtype=np.uint64)
MIN_FRAME_TOKENS = 2


def body_mask(sk: Skeleton) -> Bools:
    """True for the skeleton entries of the body segment (all entries when there is one)."""
    segments = sk.tokens.segment[sk.index]
    if len(segments) == 0:
        return np.zeros(0, dtype=np.bool_)
    base = int(segments.min())
    body = int(np.argmax(np.bincount(segments - base))) + base
    mask: Bools = segments == body
    return mask


def frame_hash(sk: Skeleton, body: Bools | None = None, min_tokens: int = MIN_FRAME_TOKENS) -> int:
    """64-bit hash of the frame (skeleton minus body), or 0 when there is no frame."""
    body = body_mask(sk) if body is None else body
    frame = ~body
    if int(np.count_nonzero(frame)) < min_tokens:
        return 0
    first = int(np.argmax(body))
    before = sk.hashes[:first][frame[:first]]
    after = sk.hashes[first:][frame[first:]]
    return hash_sequence(np.concatenate((before, _BODY, after))) or 1
