"""degrade(): a pure rewrite of the request body."""

from __future__ import annotations

import copy

from gateway.detection.config import DegradeSettings, DetectionPolicy
from gateway.detection.degrade import degrade


def test_strips_distillation_extras_and_caps() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "logprobs": True,
        "top_logprobs": 20,
        "logit_bias": {"123": 5},
        "n": 8,
        "max_tokens": 8192,
    }
    original = copy.deepcopy(body)
    out, changed = degrade(body, DetectionPolicy())
    assert body == original  # never modified in place
    assert "logprobs" not in out and "top_logprobs" not in out and "logit_bias" not in out
    assert out["n"] == 1 and out["max_tokens"] == 512
    assert out["messages"] == body["messages"] and out["model"] == "m"
    assert len(changed) == 5


def test_caps_max_completion_tokens_and_keeps_small_values() -> None:
    out, changed = degrade({"max_completion_tokens": 4000, "n": 1}, DetectionPolicy())
    assert out == {"max_completion_tokens": 512, "n": 1}
    assert changed == ["max_completion_tokens capped at 512"]
    out, changed = degrade({"max_tokens": 100}, DetectionPolicy())
    assert out == {"max_tokens": 100} and changed == []


def test_sets_a_cap_when_the_client_sent_none() -> None:
    out, changed = degrade({"model": "m"}, DegradeSettings(max_tokens=256))
    assert out["max_tokens"] == 256 and changed == ["max_tokens set to 256"]


def test_settings_can_keep_fields() -> None:
    rules = DegradeSettings(strip_logprobs=False, max_n=2)
    out, _ = degrade({"logprobs": True, "n": 3, "max_tokens": 10}, rules)
    assert out == {"logprobs": True, "n": 2, "max_tokens": 10}


def test_ignores_nonsense_types_safely() -> None:
    out, changed = degrade({"n": "3", "max_tokens": "lots"}, DetectionPolicy())
    assert out["n"] == "3"  # not ours to validate: the upstream answers 400
    assert out["max_tokens"] == 512 and changed == ["max_tokens capped at 512"]
