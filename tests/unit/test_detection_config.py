"""The detection: policy section: defaults, validation, tier overrides, documentation."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from gateway.detection.config import DetectionPolicy, Thresholds
from gateway.model import Level


def test_absent_section_means_detection_on_with_defaults() -> None:
    policy = DetectionPolicy.model_validate({})
    assert policy.enabled and policy.mode == "enforce"
    t = policy.thresholds
    assert 0 < t.throttle < t.degrade < t.challenge < t.block <= 1
    assert policy.challenge.base_difficulty <= policy.challenge.max_difficulty
    assert policy.escalation.half_life == 6 * 3600
    assert policy.content_only_max == "degrade"


def test_durations_and_overrides_parse() -> None:
    policy = DetectionPolicy.model_validate(
        {
            "mode": "shadow",
            "escalation": {"half_life": "3h"},
            "ttl": {"block": "2d"},
            "challenge": {"clearance": "5m", "token_ttl": 90},
            "families": {"timing": {"weight": 0.5, "mode": "shadow"}},
        }
    )
    assert policy.escalation.half_life == 3 * 3600
    assert policy.ttl.ttl(Level.BLOCK) == 2 * 86400
    assert policy.challenge.clearance == 300
    assert policy.families.get("timing").mode == "shadow"


@pytest.mark.parametrize(
    "bad",
    [
        {"thresholds": {"throttle": 0.8, "degrade": 0.5}},
        {"challenge": {"base_difficulty": 22, "max_difficulty": 18}},
        {"unknown": 1},
        {"families": {"vibes": {"weight": 1}}},
        {"mode": "loud"},
        {"escalation": {"half_life": 0}},
    ],
)
def test_invalid_sections_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DetectionPolicy.model_validate(bad)


def test_tier_overrides_merge_over_top_level() -> None:
    policy = DetectionPolicy.model_validate(
        {
            "throttle_factor": 0.5,
            "tiers": {"enterprise": {"challenge_exempt": True, "max_level": "degrade"}},
        }
    )
    enterprise = policy.for_tier("enterprise")
    assert enterprise.challenge_exempt and enterprise.level_cap() == Level.DEGRADE
    assert enterprise.throttle_factor == 0.5  # not overridden: inherited
    assert policy.for_tier("free") is policy and policy.for_tier(None) is policy
    assert policy.level_cap() == Level.BLOCK


def test_threshold_lookup() -> None:
    t = Thresholds()
    assert t.level_for(0.0) == Level.NONE
    assert t.level_for(t.degrade) == Level.DEGRADE
    assert t.level_for(0.999) == Level.BLOCK


def _undocumented(model: type[BaseModel], path: str = "detection") -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        if not info.description:
            missing.append(f"{path}.{name}")
        for arg in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                missing += _undocumented(arg, f"{path}.{name}")
    return missing


def test_every_field_is_documented() -> None:
    assert _undocumented(DetectionPolicy) == []
