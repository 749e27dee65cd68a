"""The clusters: policy section."""

from __future__ import annotations

import math

import pytest
import yaml
from pydantic import ValidationError

from gateway.clusters.config import ClustersPolicy

EXAMPLE = """
clusters:
  link_on:
    hard: [payment_fingerprint, org_id]
    soft: [ip_prefix, template, synchrony]
  hot_value_limit: 50
  max_size: 5000
  budgets:
    free:
      requests: 8/minute
"""


def test_example_section_parses() -> None:
    policy = ClustersPolicy.model_validate(yaml.safe_load(EXAMPLE)["clusters"])
    assert policy.link_on.hard == ("payment_fingerprint", "org_id")
    assert policy.link_on.soft == ("ip_prefix", "template", "synchrony")
    assert policy.hot_value_limit == 50 and policy.max_size == 5000
    requests = policy.budgets["free"].requests
    assert requests is not None and requests.rate.amount == 8 and requests.rate.period == 60


def test_absent_section_is_valid_with_defaults() -> None:
    policy = ClustersPolicy()
    assert policy.enabled and policy.growth == "sqrt" and policy.soft_min_signals == 2
    assert policy.budgets == {} and policy.cache_ttl == 5.0


def test_durations_accept_units() -> None:
    policy = ClustersPolicy.model_validate(
        {"synchrony": {"window": "3s", "min_cooccurrences": 2}, "evidence_ttl": "2d"}
    )
    assert policy.synchrony.window == 3.0 and policy.evidence_ttl == 2 * 86400


@pytest.mark.parametrize(
    "section",
    [
        {"link_on": {"soft": ["ip_prefix", "bogus"]}},
        {"link_on": {"hard": ["org_id", "org_id"]}},
        {"link_on": {"hard": [" "]}},
        {"growth": "cubic"},
        {"hot_value_limit": 1},
        {"unknown_key": 1},
        {"soft_min_signals": 4},
        {"hot_value_limits": {"org_id": 0}},
    ],
)
def test_invalid_sections_are_rejected(section: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ClustersPolicy.model_validate(section)


@pytest.mark.parametrize(
    ("growth", "n", "expected"),
    [
        ("sqrt", 16, 4.0),
        ("linear", 16, 16.0),
        ("log", 16, 1 + math.log(16)),
        ("none", 16, 1.0),
        ("sqrt", 1, 1.0),
        ("linear", 0, 1.0),
    ],
)
def test_scale(growth: str, n: int, expected: float) -> None:
    assert ClustersPolicy.model_validate({"growth": growth}).scale(n) == pytest.approx(expected)


def test_hot_limit_override() -> None:
    policy = ClustersPolicy.model_validate({"hot_value_limits": {"org_id": 500}})
    assert policy.hot_limit("org_id") == 500 and policy.hot_limit("ip_prefix") == 50
