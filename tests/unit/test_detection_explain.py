"""Which path set an entity's level (gateway/detection/explain.py): the effective level is
the highest of its own, its level key (floors) and its cluster's; the source names the path."""

from __future__ import annotations

from typing import Any

from gateway.detection.explain import explain
from gateway.model import Level

NOW = 1_000.0
CHURN = {
    "path": "stack_churn",
    "to": "challenge",
    "t": 900.0,
    "until": 2_000.0,
    "reasons": ["coverage: x", "client stack churn: 9 stacks in its last 16 requests"],
}


def _why(
    own: Level,
    keyed: Level,
    cluster: Level = Level.NONE,
    pinned: bool = False,
    audit: list[dict[str, Any]] | None = None,
) -> tuple[str, str, Any]:
    out = explain(own, pinned, keyed, cluster, audit or [], NOW)
    return out["effective_level"], out["level_source"], out["floor"]


def test_each_source_is_named() -> None:
    assert _why(Level.NONE, Level.NONE)[:2] == ("none", "none")
    assert _why(Level.THROTTLE, Level.THROTTLE)[:2] == ("throttle", "detector")
    assert _why(Level.BLOCK, Level.BLOCK, pinned=True)[:2] == ("block", "pin")
    level, source, floor = _why(Level.NONE, Level.CHALLENGE, audit=[CHURN])
    assert (level, source) == ("challenge", "stack_churn")
    assert floor["reasons"][-1].startswith("client stack churn") and floor["until"] == 2_000.0
    assert _why(Level.NONE, Level.THROTTLE, Level.DEGRADE)[:2] == ("degrade", "cluster")


def test_a_floor_record_counts_only_while_it_holds_and_at_the_level_shown() -> None:
    expired = {**CHURN, "until": NOW - 1}
    assert _why(Level.NONE, Level.CHALLENGE, audit=[expired])[1] == "level_key"
    assert _why(Level.NONE, Level.THROTTLE, audit=[CHURN])[1] == "level_key"  # another level
    newer = {**CHURN, "path": "newcomer_cohort", "t": 950.0}
    assert _why(Level.NONE, Level.CHALLENGE, audit=[newer, CHURN])[1] == "newcomer_cohort"
    # its own score at the floor's level: its own score explains it
    assert _why(Level.CHALLENGE, Level.CHALLENGE, audit=[CHURN])[1] == "detector"
