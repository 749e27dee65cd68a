"""A system prompt's chain-of-thought wording is an app's style, not a harvest signal, unless
the request itself agrees (its own wording, logprobs / n > 1, maximum output)."""

from __future__ import annotations

from gateway.detection.config import DetectionPolicy
from gateway.detection.observation import observation
from gateway.diversity.fingerprint import Fingerprinter
from gateway.model import RequestFeatures

TUTOR = "You are a patient tutor. Always explain your reasoning step by step before answering."
QUESTION = "Why does ice float on water?"


def _elicitation(text: str, system: str, **features: object) -> float:
    fp = Fingerprinter().fingerprint_text(text, system)
    f = RequestFeatures(endpoint="chat", model="m", **features)  # type: ignore[arg-type]
    return observation(fp, f, DetectionPolicy(), 0.0).elicitation


def test_the_system_prompt_is_scored_apart_from_the_user_turn() -> None:
    fp = Fingerprinter().fingerprint_text(QUESTION, TUTOR)
    assert fp.elicitation == 0.0 and fp.system_elicitation > 0.5
    assert fp.elicitation_terms  # reported for operators (the system prompt's terms)


def test_a_step_by_step_system_prompt_alone_is_no_evidence() -> None:
    assert _elicitation(QUESTION, TUTOR) == 0.0


def test_the_system_prompt_counts_when_the_request_agrees() -> None:
    assert _elicitation(QUESTION, TUTOR, logprobs=True) > 0.5
    assert _elicitation(QUESTION, TUTOR, max_tokens=8000) > 0.5
    own = _elicitation(QUESTION + " Think step by step.", "")
    assert own > 0 and _elicitation(QUESTION + " Think step by step.", TUTOR) >= own
