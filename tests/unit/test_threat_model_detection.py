"""The detection claims of docs/threat-model.md, on the shipped policy (policies/default.yaml):
content signals alone set no level, behaviour alone sets no level, and no policy can let
content alone reach challenge or block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from gateway.detection.config import DetectionPolicy
from gateway.detection.scorer import score
from gateway.detection.types import Finding, ScoreState
from gateway.model import Level

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("coverage", "templating", "elicitation", "shape", "timing")


def _shipped() -> DetectionPolicy:
    data: dict[str, Any] = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    return DetectionPolicy.model_validate(data["detection"])


def _level(policy: DetectionPolicy, **scores: float) -> Level:
    found = tuple(Finding(f, scores.get(f, 0.0), (f"{f} reason",)) for f in FAMILIES)
    return score("a:x", found, ScoreState(), None, policy, 1_000_000.0).assessment.level


def test_shipped_policy_content_alone_sets_no_level() -> None:
    policy = _shipped()
    assert _level(policy, elicitation=1.0) == Level.NONE
    # content plus single-turn use (a tutoring app) is still one behavioural family: nothing
    assert _level(policy, elicitation=1.0, shape=1.0) == Level.NONE


def test_shipped_policy_behaviour_alone_sets_no_level() -> None:
    assert _level(_shipped(), coverage=1.0, templating=1.0, shape=1.0, timing=1.0) == Level.NONE


def test_shipped_policy_acts_when_behaviour_and_content_agree() -> None:
    # the two gates above are not vacuous: together the signals reach challenge or block
    assert _level(_shipped(), elicitation=1.0, timing=1.0, coverage=1.0) >= Level.CHALLENGE


@pytest.mark.parametrize("level", ["challenge", "block"])
def test_no_policy_lets_content_alone_reach_challenge_or_block(level: str) -> None:
    with pytest.raises(ValidationError):
        DetectionPolicy.model_validate({"content_only_max": level})
