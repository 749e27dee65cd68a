"""The reasoning asked back by a parameter (gateway.fingerprints.value.returns_trace): a
Responses API reasoning summary, thinking blocks, include_reasoning. It is a trace asked
for without a word of the lexicon, so detection reads it as the lexicon's strongest ask,
and the degrade level removes it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.apis import RESPONSES
from gateway.detection.config import DegradeSettings, DetectionPolicy
from gateway.detection.degrade import degrade
from gateway.detection.observation import TRACE_ASKED, elicitation_of, observation
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.request import request_features
from gateway.fingerprints.value import returns_trace

TASK = "A train leaves at 3 pm at 60 km/h; when does it reach the city 150 km away?"


@pytest.mark.parametrize(
    ("extra", "asked"),
    [
        ({"reasoning": {"summary": "detailed"}}, True),
        ({"reasoning": {"summary": "auto", "effort": "low"}}, True),
        ({"reasoning": {"generate_summary": "concise"}}, True),
        ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, True),
        ({"include_reasoning": True}, True),
        ({"reasoning": {"effort": "high"}}, False),  # effort: the trace stays in the model
        ({"reasoning": {"summary": None}}, False),
        ({"reasoning": "detailed"}, False),
        ({"thinking": {"type": "disabled"}}, False),
        ({"include_reasoning": "yes"}, False),
        ({}, False),
    ],
)
def test_which_parameters_ask_the_reasoning_back(extra: dict[str, Any], asked: bool) -> None:
    body = {"model": "o4-mini", "input": TASK, **extra}
    assert returns_trace(body) is asked
    assert request_features(body, "chat", api=RESPONSES).trace_asked is asked


def test_a_bare_task_asking_its_summary_back_is_an_explicit_trace_ask() -> None:
    fp = Fingerprinter()
    body = {"model": "o4-mini", "input": TASK, "reasoning": {"summary": "detailed"}}
    print_ = fp.fingerprint(body, "chat")
    assert print_.elicitation == 0.0  # no word of the lexicon
    features = request_features(body, "chat", api=RESPONSES)
    assert elicitation_of(print_, features, max_output=False) == TRACE_ASKED
    seen = observation(print_, features, DetectionPolicy(), 0.0)
    assert seen.elicitation == TRACE_ASKED
    plain = request_features({"model": "o4-mini", "input": TASK}, "chat", api=RESPONSES)
    assert observation(print_, plain, DetectionPolicy(), 0.0).elicitation == 0.0


def test_degrade_removes_the_reasoning_asked_back() -> None:
    body = {
        "model": "o4-mini",
        "input": TASK,
        "reasoning": {"summary": "detailed", "effort": "medium"},
        "include_reasoning": True,
    }
    out, changed = degrade(body, DetectionPolicy(), RESPONSES)
    assert out["reasoning"] == {"effort": "medium"}
    assert "include_reasoning" not in out
    assert {"reasoning summary removed", "include_reasoning removed"} <= set(changed)
    assert body["reasoning"] == {"summary": "detailed", "effort": "medium"}  # not modified
    kept, changed = degrade(body, DegradeSettings(strip_reasoning_summary=False), RESPONSES)
    assert kept["reasoning"] == body["reasoning"] and kept["include_reasoning"] is True


@pytest.mark.parametrize(
    "extra",
    [
        {"reasoning_effort": ["high"]},
        {"reasoning": {"effort": {"level": "high"}}},
        {"reasoning": {"summary": {"x": 1}}},
        {"reasoning": {"generate_summary": ["auto"]}},
        {"thinking": {"type": ["enabled"]}},
    ],
)
def test_junk_in_the_reasoning_fields_reads_as_absent(extra: dict[str, Any]) -> None:
    features = request_features({"model": "o4-mini", "input": TASK, **extra}, "chat")
    assert (features.reasoning, features.trace_asked) == (False, False)
