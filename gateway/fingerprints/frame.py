"""Frame hash: the template around the variable part of a prompt.

Harvesters wrap whole questions in a template ("Solve step by step:\\n{question}\\nAnswer:").
The skeleton hash then differs per question, but the *frame* does not. Segments are lines
and colon-delimited parts ("Question: ..."); the body is the segment with the most skeleton
tokens, and the frame is everything else, with the body replaced by a marker. A prompt that
is one segment, or whose frame has fewer than ``min_tokens`` tokens, has no frame (0): a
single unstructured paragraph gives no template evidence, and 0 must not look like a shared
template to the detectors.

A template that joins the question without a newline or colon ("Explain your reasoning
step by step. {question}") has no segments; then, when the elicitation lexicon matched, the
frame is the sentence holding the matched phrase (``sentence_frame``): constant across a
template's uses, unique for a human who wrote the phrase into their own sentence. A
multi-line question keeps its other lines in the frame, so its frame stays diverse (limit).

Why not "the first and last k words": with a prefix-only template the last words are the
question's, so such a pair changes with every question. Measured on real prompts (tests):
5 CoT templates x 50 GSM8K questions give exactly 1 frame per template; 50 arena prompts
share no frame (30 of them have none).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.fingerprints.compiled import compiled
from gateway.fingerprints.hashing import hash_sequence
from gateway.fingerprints.skeleton import Skeleton
from gateway.fingerprints.tokens import Bools

_BODY = np.array([0xB0D7B0D7B0D7B0D7], dtype=np.uint64)
_SENTENCE = np.array([0x5E47E4CE5E47E4CE], dtype=np.uint64)
MIN_FRAME_TOKENS = 2


def body_segment(sk: Skeleton) -> int:
    """The segment with the most skeleton entries (-1 for an empty skeleton)."""
    segments = sk.segments
    if len(segments) == 0:
        return -1
    base = int(segments[0])
    if base == segments[-1]:  # one segment (segments never decrease)
        return base
    return int(np.bincount(segments - base).argmax()) + base


def body_mask(sk: Skeleton, segment: int | None = None) -> Bools:
    """True for the skeleton entries of the body segment."""
    body = body_segment(sk) if segment is None else segment
    mask: Bools = sk.segments == body
    return mask


def _body_range(sk: Skeleton, segment: int) -> tuple[int, int]:
    """[first, end) of the body's entries: segments never decrease, so the body is a run."""
    lo, hi = np.searchsorted(sk.segments, (segment, segment + 1)).tolist()
    return lo, hi


def frame_range(
    sk: Skeleton, segment: int | None = None, min_tokens: int = MIN_FRAME_TOKENS
) -> tuple[int, int] | None:
    """[first, end) of the body's entries when the skeleton has a frame, else None (what the
    novelty cell needs to know, without hashing the frame)."""
    segments = sk.segments
    if len(segments) == 0 or segments[0] == segments[-1]:
        return None  # one segment: no frame
    first, end = _body_range(sk, body_segment(sk) if segment is None else segment)
    if len(segments) - (end - first) < min_tokens:
        return None
    return first, end


@compiled()
def _framed_body(segments: Any, min_tokens: int) -> int:  # pragma: no cover - compiled
    """:func:`frame_range`'s test in one compiled pass over the entries' segments (never
    decreasing, so each segment is one run): the body segment (the first longest run, as
    ``body_segment``'s argmax) when there is a frame, else -1."""
    n = len(segments)
    if n == 0 or segments[0] == segments[n - 1]:
        return -1
    best, best_count, run = segments[0], 0, 0
    for i in range(n):
        run = run + 1 if i > 0 and segments[i] == segments[i - 1] else 1
        if run > best_count:
            best, best_count = segments[i], run
    return -1 if n - best_count < min_tokens else best


def framed_body(sk: Skeleton, min_tokens: int = MIN_FRAME_TOKENS) -> int | None:
    """The body segment when the skeleton has a frame (``frame_range`` is not None), else
    None: the segment whose tokens the novelty cell embeds."""
    body = int(_framed_body(sk.segments, min_tokens))
    return None if body < 0 else body


def frame_hash(sk: Skeleton, segment: int | None = None, min_tokens: int = MIN_FRAME_TOKENS) -> int:
    """64-bit hash of the frame (skeleton minus the body segment), or 0 when there is none."""
    found = frame_range(sk, segment, min_tokens)
    if found is None:
        return 0
    first, end = found
    return hash_sequence(np.concatenate((sk.hashes[:first], _BODY, sk.hashes[end:]))) or 1


def sentence_frame(sk: Skeleton, token: int, min_tokens: int = MIN_FRAME_TOKENS + 1) -> int:
    """Hash of the skeleton of the sentence holding ``token``, when the prompt has more.

    0 when ``token`` is -1, or the sentence is short or is the whole prompt.
    """
    if token < 0 or len(sk) == 0:
        return 0
    sentence = np.cumsum(sk.tokens.sentence_initial)
    mine = sentence[sk.index] == sentence[token]
    count = int(np.count_nonzero(mine))
    if count < min_tokens or count == len(sk):
        return 0
    return hash_sequence(np.concatenate((_SENTENCE, sk.hashes[mine]))) or 1
