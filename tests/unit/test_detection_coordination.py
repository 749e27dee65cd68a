"""Coordination of soft-only clusters: synchrony above chance, members at their limits,
template fan-out; and the scorer's separate soft-cluster path (capped, value-gated)."""

from __future__ import annotations

import pytest

from gateway.detection.config import DetectionPolicy
from gateway.detection.coordination import (
    FAMILY,
    chance_synchrony,
    coordination,
    request_rate,
    sync_excess,
)
from gateway.detection.coordination_policy import Coordination
from gateway.detection.detectors import Context
from gateway.detection.scorer import score
from gateway.detection.types import EntityState, Finding, ScoreState
from gateway.model import Level

HOUR = 3600.0
CTX = Context(min_requests=40, cluster=True, half_life=6 * HOUR)
ON = DetectionPolicy.model_validate(
    {"soft_cluster_max": "none", "coordination": {"max_level": "throttle"}}
)
FAMILIES = ("coverage", "templating", "elicitation", "shape", "timing")


def cluster(
    *, req: float = 200.0, sync: float = 0.0, hug: float = 0.0, fan: float = 0.0,
    iat_mean: float = 300.0, span: float = 2 * 86400.0, requests: int = 400,
) -> EntityState:  # fmt: skip
    return EntityState(
        entity="c:x",
        requests=requests,
        first_seen=0.0,
        last_seen=span,
        counters={"req": req, "sync": sync * req, "hug": hug * req, "fan": fan * req},
        iat_mean=iat_mean,
        iat_samples=requests - 1,
    )


def test_chance_synchrony_follows_the_request_rate() -> None:
    # one request a second: a crowd is within 2 s of itself most of the time
    busy = cluster(iat_mean=1.0)
    assert request_rate(busy, CTX.half_life) == pytest.approx(1.0)
    assert chance_synchrony(busy, CTX.half_life) == pytest.approx(0.865, abs=0.01)
    # a few hundred requests over hours: synchrony by chance is rare
    quiet = cluster(req=100.0, iat_mean=600.0)
    assert chance_synchrony(quiet, CTX.half_life) < 0.02
    # a bursty cluster (short EWMA of gaps) cannot hide behind a long mean: the counter
    # read as a rate is the other estimate, and the larger one counts
    bursty = cluster(req=5000.0, iat_mean=5000.0)
    # 5000 in a counter of half-life h after 2 days: about 5000 / (h / ln 2) per second
    assert request_rate(bursty, CTX.half_life) == pytest.approx(0.16, abs=0.01)


def test_synchrony_counts_only_above_chance() -> None:
    crowd = cluster(sync=0.86, iat_mean=1.0)  # a busy crowd: as synchronous as chance says
    squad = cluster(sync=0.86, req=100.0, iat_mean=600.0)  # members fire together in waves
    assert sync_excess(crowd, CTX.half_life) < 0.05
    assert sync_excess(squad, CTX.half_life) > 0.8
    policy = Coordination()
    assert coordination(crowd, CTX, policy).score < 0.1
    found = coordination(squad, CTX, policy)
    assert found.family == FAMILY and found.score == pytest.approx(1.0)
    assert any("synchrony 0.86" in r for r in found.reasons)


def test_limits_and_fanout() -> None:
    policy = Coordination()
    assert coordination(cluster(hug=0.6), CTX, policy).score == pytest.approx(1.0)
    # a popular app's frame fans out too: fan-out alone stays under min_score
    fanned = coordination(cluster(fan=1.0), CTX, policy).score
    assert fanned == pytest.approx(policy.fanout_weight) and fanned < policy.min_score
    both = coordination(cluster(fan=1.0, sync=0.4, req=100.0, iat_mean=600.0), CTX, policy)
    assert both.score > policy.min_score


def test_needs_min_requests() -> None:
    few = cluster(sync=0.9, req=30.0, iat_mean=600.0, requests=30)
    assert coordination(few, CTX, Coordination()).score == 0.0


def test_ramps_are_validated() -> None:
    with pytest.raises(ValueError, match="sync_low"):
        Coordination.model_validate({"sync_low": 0.7, "sync_high": 0.3})


def found(coord: float, **scores: float) -> tuple[tuple[Finding, ...], Finding]:
    fs = tuple(Finding(name, scores.get(name, 0.0), (f"{name} reason",)) for name in FAMILIES)
    return fs, Finding(FAMILY, coord, ("coordination reason",))


def soft(
    coord: float, policy: DetectionPolicy = ON, prior: ScoreState | None = None,
    now: float = 1e6, **scores: float,
) -> tuple[Level, float, ScoreState, tuple[str, ...]]:  # fmt: skip
    fs, c = found(coord, **scores)
    v = score("c:x", fs, prior or ScoreState(), None, policy, now, 1.0, Level.NONE, c)
    return v.assessment.level, v.assessment.score, v.state, v.assessment.reasons


# a crowd sums to every family at once: coverage, timing (24/7), shape, CoT wording
CROWD = {"coverage": 1.0, "timing": 1.0, "shape": 1.0, "templating": 1.0, "elicitation": 0.6}


def test_crowd_evidence_alone_does_not_act_on_a_soft_cluster() -> None:
    assert soft(0.0, **CROWD)[0] == Level.NONE


def test_coordination_with_value_throttles_and_never_more() -> None:
    level, _, _, reasons = soft(1.0, **CROWD)
    assert level == Level.THROTTLE
    assert any("coordinated soft-only cluster" in r for r in reasons)
    assert any(r.startswith("coordination: ") for r in reasons)
    degrade = ON.model_copy(update={"coordination": Coordination(max_level="degrade")})
    assert soft(1.0, degrade, **CROWD)[0] == Level.DEGRADE
    assert soft(1.0, degrade, elicitation=1.0)[0] == Level.DEGRADE  # never challenge


def test_coordination_needs_a_value_signal_and_min_score() -> None:
    assert soft(1.0, elicitation=0.2)[0] == Level.NONE  # below value_min (0.3)
    assert soft(0.45, elicitation=1.0)[0] == Level.NONE  # below min_score (0.5)
    assert soft(0.6, elicitation=0.5)[0] == Level.THROTTLE


def test_off_by_default_in_code() -> None:
    off = DetectionPolicy.model_validate({"soft_cluster_max": "none"})
    assert off.coordination.max_level == "none"
    level, _, _, reasons = soft(1.0, off, **CROWD)
    assert level == Level.NONE
    assert any(r.startswith("coordination: ") for r in reasons)  # still shown to operators


def test_level_falls_when_coordination_stops() -> None:
    level, _, state, _ = soft(1.0, **CROWD)
    assert level == Level.THROTTLE
    levels = []
    for hour in range(1, 7):  # the crowd evidence goes on, the coordination stops
        level, held, state, _ = soft(0.0, prior=state, now=1e6 + hour * HOUR, **CROWD)
        levels.append(level)
    assert levels[0] == Level.THROTTLE  # escalate fast, decay slowly
    assert levels[-1] == Level.NONE and held < ON.thresholds.throttle
