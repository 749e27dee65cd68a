"""From a request's fingerprint and features to a detector :class:`Observation` (pure)."""

from __future__ import annotations

from gateway.detection.config import DetectionPolicy
from gateway.detection.types import SYSTEM_BITS, TOPICS, Observation
from gateway.model import Fingerprint, RequestFeatures


def uses_output_params(features: RequestFeatures) -> bool:
    """logprobs, top_logprobs, logit_bias or n > 1: the distillation-friendly extras."""
    return (
        features.logprobs
        or (features.top_logprobs is not None and features.top_logprobs > 0)
        or features.logit_bias
        or features.n > 1
    )


def template_of(fingerprint: Fingerprint) -> int:
    """The prompt's template: its frame (the text around the variable body) when it has one,
    else its skeleton (literals masked)."""
    return fingerprint.frame or fingerprint.skeleton


def is_fresh(model: str, now: float, policy: DetectionPolicy) -> bool:
    """The model was released less than ``fresh_window`` ago."""
    released = policy.tuning.model_releases.get(model)
    return released is not None and 0 <= now - released <= policy.tuning.fresh_window


def reasoning_room(max_tokens: int | None, policy: DetectionPolicy) -> float:
    """How much room the requested output leaves for a reasoning trace (0..1): CoT wording
    in a request capped at a few dozen tokens (a classification, a label) extracts none."""
    floor = policy.tuning.reasoning_min_tokens
    if max_tokens is None or floor <= 0 or max_tokens >= floor:
        return 1.0
    return max(0.0, max_tokens / floor)


# a request asking its reasoning back (a reasoning summary, thinking blocks) counts as the
# lexicon's strongest explicit trace ask ("chain of thought" in words: en.chain_of_thought)
TRACE_ASKED = 0.8


def elicitation_of(fingerprint: Fingerprint, features: RequestFeatures, max_output: bool) -> float:
    """The request's elicitation evidence: its user turn's CoT / rubric wording, or its
    reasoning asked back by a parameter (:data:`TRACE_ASKED`); the system prompt's only when
    the request itself agrees (the user turn's own wording, logprobs / n > 1, or the maximum
    output). A step-by-step system prompt alone is an app's style: every end user of a
    tutoring app sends it."""
    own = (
        max(fingerprint.elicitation, TRACE_ASKED)
        if features.trace_asked
        else fingerprint.elicitation
    )
    agrees = own > 0 or uses_output_params(features) or max_output
    return max(own, fingerprint.system_elicitation) if agrees else own


def own_elicitation(
    fingerprint: Fingerprint, features: RequestFeatures, policy: DetectionPolicy
) -> float:
    """:func:`elicitation_of` the request as it was sent (what a chain of stored responses
    that continues it inherits: :mod:`gateway.detection.chains`)."""
    return elicitation_of(fingerprint, features, asks_max_output(features, policy))


def asks_max_output(features: RequestFeatures, policy: DetectionPolicy) -> bool:
    """The request's ``max_tokens`` is at least the policy's ``max_output_tokens``."""
    max_tokens = features.max_tokens
    return max_tokens is not None and max_tokens >= policy.tuning.max_output_tokens


def is_new_ask(features: RequestFeatures) -> bool:
    """A single-turn request, or a new full-length task after worked answers in the history
    (exemplars sent as history are not a conversation the user continues). A continuation
    ("continue" after a cut answer) is the ask it continues: its turns are not counted; nor
    are the pleasantry exchanges before the first real ask ("hi" / "Of course!")."""
    own_turns = features.turns - features.continued - features.opened
    return own_turns <= 1 or features.worked_history != 0


def trace_tokens(features: RequestFeatures) -> int | None:
    """The output the request's trace has room for: its ``max_tokens``, summed over the
    pieces of a continuation (each piece asked as much as this one)."""
    max_tokens = features.max_tokens
    if max_tokens is None or not features.continued:
        return max_tokens
    return max_tokens * (features.continued + 1)


def observation(
    fingerprint: Fingerprint,
    features: RequestFeatures,
    policy: DetectionPolicy,
    now: float,
    *,
    member: str = "",
    fanout: bool = False,
    limited: bool = False,
    inherited: float = 0.0,
    continues: bool = False,
) -> Observation:
    """The observation one request contributes (no prompt text, only hashes and flags);
    ``inherited``: the ask of the stored response or conversation it continues, made once
    in the chain and not sent again; ``continues``: it is a turn of the account's own chat
    kept in stored state, a follow-up (:mod:`gateway.detection.chains`)."""
    max_output = asks_max_output(features, policy)
    elicitation = max(elicitation_of(fingerprint, features, max_output), inherited)
    new_ask = is_new_ask(features) and not continues
    room = reasoning_room(trace_tokens(features), policy)
    return Observation(
        cell=fingerprint.cell,
        topic=(fingerprint.cell >> policy.tuning.topic_shift) % TOPICS,
        skeleton=template_of(fingerprint),
        exact=fingerprint.exact,
        elicitation=elicitation * room,
        params=uses_output_params(features),
        single_turn=new_ask,
        follow_up=not new_ask or features.continued > 0,  # a continuation: not a new topic
        max_output=max_output,
        member=member,
        fanout=fanout,
        limited=limited,
        fresh=is_fresh(features.model, now, policy),
        system=fingerprint.system != 0,
        system_elicitation=fingerprint.system_elicitation * room,
        trace=features.trace_schema != 0,
        worked=features.worked_history != 0,
        value_print=features.trace_schema or features.worked_history,
        reasoning=features.reasoning,
        resample=features.resample,
        system_print=fingerprint.system & ((1 << SYSTEM_BITS) - 1),
        product=fingerprint.product,
        thread=fingerprint.thread if not new_ask or features.continued else 0,
        thread_topic=(fingerprint.thread_cell >> policy.tuning.topic_shift) % TOPICS,
    )
