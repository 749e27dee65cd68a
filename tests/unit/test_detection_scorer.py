"""The risk scorer: content-only caps, escalation and decay over hours, TTLs, pins, shadow."""

from __future__ import annotations

from gateway.clock import FakeClock
from gateway.detection.config import DetectionPolicy
from gateway.detection.scorer import Verdict, score
from gateway.detection.types import Finding, Pin, ScoreState
from gateway.model import Level

HOUR = 3600.0
FAMILIES = ("coverage", "templating", "elicitation", "shape", "timing")
# the value gate (behaviour without elicitation stops at throttle) has its own tests below
UNGATED = DetectionPolicy(behaviour_only_max="block")


def findings(**scores: float) -> tuple[Finding, ...]:
    return tuple(Finding(name, scores.get(name, 0.0), (f"{name} reason",)) for name in FAMILIES)


def run(
    found: tuple[Finding, ...],
    policy: DetectionPolicy | None = None,
    prior: ScoreState | None = None,
    now: float = 1_000_000.0,
    pin: Pin | None = None,
    evidence: float = 1.0,
) -> Verdict:
    return score("a:x", found, prior or ScoreState(), pin, policy or UNGATED, now, evidence)


def test_content_only_never_reaches_challenge_or_block() -> None:
    v = run(findings(elicitation=1.0))
    assert v.assessment.level == Level.DEGRADE
    assert any("capped" in r for r in v.assessment.reasons)
    # even with every content signal maxed and an extreme weight
    heavy = DetectionPolicy.model_validate(
        {"behaviour_only_max": "block", "families": {"elicitation": {"weight": 5}}}
    )
    assert run(findings(elicitation=1.0), heavy).assessment.level <= Level.DEGRADE
    # and content plus single-turn use (common in tutoring apps) stays capped too
    assert run(findings(elicitation=1.0, shape=1.0)).assessment.level <= Level.DEGRADE


def test_content_only_max_is_configurable() -> None:
    strict = DetectionPolicy.model_validate(
        {"behaviour_only_max": "block", "content_only_max": "throttle"}
    )
    assert run(findings(elicitation=1.0), strict).assessment.level == Level.THROTTLE


def test_behaviour_unlocks_challenge_and_block() -> None:
    assert run(findings(elicitation=1.0, timing=0.7)).assessment.level >= Level.CHALLENGE
    assert run(findings(coverage=1.0, templating=1.0, timing=1.0)).assessment.level == Level.BLOCK
    weak = run(findings(elicitation=1.0, timing=0.3)).assessment
    assert weak.level <= Level.DEGRADE


def test_evidence_scales_the_score() -> None:
    full = findings(coverage=1.0, templating=1.0, timing=1.0)
    assert run(full, evidence=0.0).assessment.level == Level.NONE
    assert run(full, evidence=0.4).assessment.level == Level.THROTTLE
    assert run(full, evidence=1.0).assessment.level == Level.BLOCK


def test_escalates_at_once_and_decays_over_hours_with_hysteresis() -> None:
    clock = FakeClock()
    policy = UNGATED
    hot = findings(coverage=1.0, timing=0.8)
    v = run(hot, policy, now=clock.now())
    assert v.assessment.changed and v.assessment.level == Level.BLOCK
    quiet = findings()
    levels = []
    state = v.state
    for _ in range(24):
        clock.advance(HOUR)
        v = run(quiet, policy, prior=state, now=clock.now())
        state = v.state
        levels.append(v.assessment.level)
    # one hour later the held score has barely decayed: still blocked
    assert levels[0] == Level.BLOCK
    # decay is monotone (never re-escalates on quiet evidence) and slow: several hours per step
    assert levels == sorted(levels, reverse=True)
    assert levels[-1] == Level.NONE
    first_none = levels.index(Level.NONE)
    assert first_none >= 6  # with a 6 h half-life, a block takes many hours to wear off


def test_hysteresis_holds_a_level_just_under_its_threshold() -> None:
    policy = UNGATED
    t = policy.thresholds
    at = findings(timing=t.degrade / policy.families.timing.weight)
    v = run(at, policy)
    assert v.assessment.level == Level.DEGRADE
    below = findings(timing=(t.degrade - 0.02) / policy.families.timing.weight)
    # a fresh entity at this score is only throttled ...
    assert run(below, policy).assessment.level == Level.THROTTLE
    # ... but a degraded one stays degraded (within the hysteresis band)
    held = run(below, policy, prior=ScoreState(held=0.0, stamp=1.0, level=Level.DEGRADE,
                                                until=2_000_000.0))  # fmt: skip
    assert held.assessment.level == Level.DEGRADE and not held.assessment.changed


def test_every_level_expires_after_its_ttl() -> None:
    policy = UNGATED
    prior = ScoreState(held=0.0, stamp=1.0, level=Level.CHALLENGE, until=1_000_000.0)
    assert prior.level_at(999_999.0) == Level.CHALLENGE
    v = run(findings(), policy, prior=prior, now=1_000_000.0)
    assert v.assessment.previous == Level.NONE  # expired: not in force any more
    assert v.assessment.level == Level.NONE
    fresh = run(findings(coverage=1.0, timing=1.0), policy, now=5000.0)
    assert fresh.state.until == 5000.0 + policy.ttl.ttl(fresh.state.level)


def test_held_level_ttl_is_refreshed_before_it_runs_out() -> None:
    policy = UNGATED
    ttl = policy.ttl.ttl(Level.BLOCK)
    hot = findings(coverage=1.0, timing=1.0)
    prior = ScoreState(held=1.0, stamp=100.0, level=Level.BLOCK, until=100.0 + ttl)
    early = run(hot, policy, prior=prior, now=200.0)
    assert not early.assessment.refresh and early.state.until == prior.until
    late = run(hot, policy, prior=prior, now=100.0 + ttl * 0.75)
    assert late.assessment.refresh and late.state.until == 100.0 + ttl * 0.75 + ttl


def test_pins_override_the_scorer_until_they_expire() -> None:
    pin = Pin(Level.BLOCK, until=2_000_000.0, actor="ops", reason="abuse report")
    v = run(findings(), pin=pin)
    assert v.assessment.level == Level.BLOCK and v.assessment.pinned
    assert not v.assessment.changed
    assert "ops" in v.assessment.reasons[0]
    allow = Pin(Level.NONE, until=2_000_000.0, actor="ops", reason="known customer")
    assert run(findings(coverage=1.0, timing=1.0), pin=allow).assessment.level == Level.NONE
    expired = Pin(Level.BLOCK, until=999_999.0, actor="ops", reason="old")
    assert run(findings(), pin=expired).assessment.level == Level.NONE


def test_shadow_family_is_reported_but_not_enforced() -> None:
    policy = DetectionPolicy.model_validate(
        {"behaviour_only_max": "block", "families": {"timing": {"mode": "shadow"}}}
    )
    v = run(findings(coverage=0.3, timing=1.0), policy).assessment
    timing = next(f for f in v.families if f.family == "timing")
    assert timing.shadow and timing.score == 1.0
    assert any(r.startswith("timing (shadow)") for r in v.reasons)
    enforced = run(findings(coverage=0.3, timing=1.0)).assessment
    assert v.level < enforced.level
    assert v.shadow_score > v.score


def test_shadow_mode_reports_would_level() -> None:
    policy = DetectionPolicy.model_validate({"behaviour_only_max": "block", "mode": "shadow"})
    v = run(findings(coverage=1.0, timing=1.0), policy).assessment
    assert v.mode == "shadow" and v.level == Level.BLOCK
    assert v.reasons[0] == "shadow: would_level=block"


def test_tier_caps_and_challenge_exemption() -> None:
    policy = DetectionPolicy.model_validate(
        {
            "behaviour_only_max": "block",
            "tiers": {"enterprise": {"challenge_exempt": True, "max_level": "challenge"}},
        }
    ).for_tier("enterprise")
    block_worthy = findings(coverage=1.0, timing=1.0)
    assert run(block_worthy, policy).assessment.level == Level.DEGRADE
    no_challenges = DetectionPolicy.model_validate(
        {"behaviour_only_max": "block", "challenge": {"enabled": False}}
    )
    challenge_worthy = findings(coverage=0.75)
    assert run(challenge_worthy).assessment.level == Level.CHALLENGE
    assert run(challenge_worthy, no_challenges).assessment.level == Level.DEGRADE


def test_dirty_only_when_worth_persisting() -> None:
    first = run(findings(coverage=0.2))
    assert first.dirty
    again = run(findings(coverage=0.2), prior=first.state, now=1_000_001.0)
    assert not again.dirty


def test_behaviour_without_a_harvest_value_signal_stops_at_throttle() -> None:
    gated = DetectionPolicy()
    sweep = findings(coverage=1.0, templating=1.0, shape=1.0, timing=1.0)
    v = run(sweep, gated).assessment
    assert v.level == Level.THROTTLE
    assert any("no harvest-value signal" in r for r in v.reasons)
    # a value signal (CoT lexicon, logprobs, maximum output) lifts the cap
    assert run(findings(elicitation=0.5, coverage=1.0, timing=1.0), gated).assessment.level == (
        Level.BLOCK
    )
    lenient = DetectionPolicy(behaviour_only_max="degrade")
    assert run(sweep, lenient).assessment.level == Level.DEGRADE


CORROBORATED = DetectionPolicy(
    behaviour_only_max="block", content_only_max="none", min_behaviour_families=2
)


def test_one_behavioural_family_alone_justifies_nothing() -> None:
    """A shared app template (templating) with CoT wording is a tutoring app, not a harvest:
    behaviour needs a second family before content can lift the level."""
    alone = run(findings(elicitation=1.0, templating=1.0), CORROBORATED).assessment
    assert alone.level == Level.NONE
    both = run(findings(elicitation=1.0, templating=1.0, coverage=0.9), CORROBORATED).assessment
    assert both.level >= Level.CHALLENGE
    # one family is enough with the code default (min_behaviour_families: 1)
    one = DetectionPolicy(behaviour_only_max="block", content_only_max="none")
    assert run(findings(elicitation=1.0, templating=1.0), one).assessment.level >= Level.THROTTLE


def test_a_capped_score_lets_an_earlier_level_fall() -> None:
    """Content alone is capped hysteresis under the throttle threshold: a throttle reached
    while behaviour justified it is left once behaviour is gone, not held forever."""
    clock = FakeClock()
    hot = run(findings(elicitation=1.0, templating=1.0, coverage=0.6), CORROBORATED)
    assert hot.assessment.level >= Level.THROTTLE
    state, levels = hot.state, []
    for _ in range(48):
        clock.advance(HOUR)
        v = run(findings(elicitation=1.0, templating=1.0), CORROBORATED, state, clock.now())
        state = v.state
        assert v.assessment.raw < CORROBORATED.thresholds.throttle - 0.04
        levels.append(v.assessment.level)
    assert levels[-1] == Level.NONE
