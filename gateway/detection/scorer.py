"""Risk score and level from the families' findings: weights, caps, hysteresis, TTLs, pins.

* risk = weighted noisy-or of the enforced families (``1 - prod(1 - w*s)``); shadow families
  are computed into ``shadow_score`` only.
* The combined score is scaled by ``evidence`` (detectors.confidence: 0 below min_requests,
  1 at three times that): levels rise with the evidence, not on the first few requests.
* Content alone never reaches challenge or block: the level is capped at one level above
  what the behavioural families (coverage, templating, shape, timing) justify on their own,
  and never below ``content_only_max``; with no behavioural evidence that is
  ``content_only_max`` (degrade by default).
* Escalate fast, decay slowly: the held score is ``max(raw, held * 2**(-dt/half_life))``.
  A level rises as soon as the held score reaches it and is left only when the held score
  falls ``hysteresis`` below its threshold. Every level has a TTL, refreshed while held.
* Behaviour justifies a level only when corroborated: at least ``min_behaviour_families``
  behavioural families score 0.5 or more (one alone may be a popular app template).
* A capped score sits ``hysteresis`` under the next threshold, so that a level reached while
  the evidence justified it is left once it no longer does (instead of being held forever).
* Behaviour alone never goes past ``behaviour_only_max`` (throttle by default): without a
  harvest-value signal (the elicitation family below ``value_min``), the level is capped.
* A soft-only cluster (``max_level`` below block) may also be scored on its own path
  (``coordination``, see :mod:`gateway.detection.coordination`): coordination evidence and a
  value signal only, up to ``coordination.max_level``. The ordinary score then sits
  ``hysteresis`` under the next level above ``max_level``, so that a level reached through
  coordination is left when coordination goes.
* A pin (operator, or verification) fixes the level until it expires or is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.detection.config import DetectionPolicy, level_of
from gateway.detection.coordination import coordinated_raw
from gateway.detection.detectors import noisy_or
from gateway.detection.types import Assessment, Finding, Pin, ScoreState
from gateway.model import Level

_EPSILON = 1e-6
# How much each behavioural family counts toward justifying challenge/block. Single-turn use
# alone (shape) is common in honest API apps (tutoring), so it counts half.
JUSTIFICATION = (("coverage", 1.0), ("templating", 1.0), ("timing", 1.0), ("shape", 0.5))
_DIRTY = 0.01  # persist the held score when it rises by more than this


@dataclass(frozen=True, slots=True)
class Verdict:
    """The scorer's output: the assessment and the state to persist (when ``dirty``)."""

    assessment: Assessment
    state: ScoreState
    dirty: bool


def weighted(
    findings: tuple[Finding, ...],
    policy: DetectionPolicy,
    families: tuple[str, ...],
    factors: dict[str, float] | None = None,
) -> float:
    """Weighted noisy-or of the named families' scores (times optional per-family factors)."""
    return noisy_or(
        [
            min(1.0, policy.families.get(f.family).weight * f.score)
            * (1.0 if factors is None else factors.get(f.family, 0.0))
            for f in findings
            if f.family in families
        ]
    )


def _cap_level(level: Level, policy: DetectionPolicy) -> Level:
    level = min(level, policy.level_cap())
    if level == Level.CHALLENGE and (policy.challenge_exempt or not policy.challenge.enabled):
        return Level.DEGRADE
    return level


def _below(level: Level, policy: DetectionPolicy) -> float:
    """The highest score that stays at or below ``level`` and lets a higher level held
    earlier fall: ``hysteresis`` under the next threshold (never under ``level``'s own)."""
    if level >= Level.BLOCK:
        return 1.0
    t = policy.thresholds
    upper = t.threshold(Level(level + 1)) - policy.escalation.hysteresis
    return max(0.0, max(t.threshold(level), upper) - _EPSILON)


def corroborated(findings: tuple[Finding, ...], policy: DetectionPolicy) -> bool:
    """At least ``min_behaviour_families`` behavioural families are present (score >= 0.5)."""
    present = sum(1 for f in findings if f.family in dict(JUSTIFICATION) and f.score >= 0.5)
    return present >= policy.min_behaviour_families


def _behaviour_cap(behavioural: float, policy: DetectionPolicy) -> float:
    """The highest score allowed given the behavioural evidence alone: one level above what
    it justifies, none at all when it is below half the throttle threshold (then content
    alone decides, up to ``content_only_max``)."""
    justified = int(policy.thresholds.level_for(behavioural)) + 1
    if behavioural < policy.thresholds.throttle / 2:
        justified = int(Level.NONE)
    cap = max(justified, int(level_of(policy.content_only_max)))
    return _below(Level(min(cap, int(Level.BLOCK))), policy)


def _value_cap(findings: tuple[Finding, ...], policy: DetectionPolicy) -> float:
    """The highest score allowed without a harvest-value (elicitation) signal."""
    value = max((f.score for f in findings if f.family == "elicitation"), default=0.0)
    if value >= policy.value_min:
        return 1.0
    return _below(level_of(policy.behaviour_only_max), policy)


def _level_cap(level: Level, policy: DetectionPolicy) -> float:
    """The highest score that stays at or below ``level``."""
    if level >= Level.BLOCK:
        return 1.0
    return max(0.0, policy.thresholds.threshold(Level(level + 1)) - _EPSILON)


def score(
    entity: str,
    findings: tuple[Finding, ...],
    prior: ScoreState,
    pin: Pin | None,
    policy: DetectionPolicy,
    now: float,
    evidence: float = 1.0,
    max_level: Level = Level.BLOCK,
    coordination: Finding | None = None,
) -> Verdict:
    """Combine ``findings`` (backed by ``evidence`` in 0..1) with the prior state at ``now``;
    the score never goes past ``max_level`` (a soft-only cluster), except on the coordination
    path when ``coordination`` (the soft-only cluster's coordination finding) is given."""
    marked = tuple(
        Finding(f.family, f.score, f.reasons, shadow=policy.families.get(f.family).mode == "shadow")
        for f in findings
    )
    enforced = tuple(f.family for f in marked if not f.shadow)
    everything = tuple(f.family for f in marked)
    raw = evidence * weighted(marked, policy, enforced)
    shadow_raw = evidence * weighted(marked, policy, everything)
    justify = dict(JUSTIFICATION)
    behavioural = evidence * weighted(marked, policy, enforced, justify)
    if not corroborated(tuple(f for f in marked if not f.shadow), policy):
        behavioural = 0.0
    reasons: list[str] = []
    t = policy.thresholds
    cap = _behaviour_cap(behavioural, policy)
    if raw > cap:
        raw = cap
        reasons.append(f"content evidence beyond behaviour: capped at {t.level_for(cap).label}")
    value_cap = _value_cap(marked, policy)
    if raw > value_cap:
        raw = value_cap
        reasons.append(f"no harvest-value signal: capped at {t.level_for(value_cap).label}")
    soft_path = coordination is not None and policy.coordination.max_level != "none"
    entity_cap = _below(max_level, policy) if soft_path else _level_cap(max_level, policy)
    if raw > entity_cap:
        raw = entity_cap
        reasons.append(f"linked by soft evidence only: capped at {max_level.label}")
    if coordination is not None and soft_path:
        soft_max = level_of(policy.coordination.max_level)
        soft_cap = _below(soft_max, policy)
        weight = policy.families.elicitation.weight
        soft_raw = coordinated_raw(
            coordination, marked, policy.coordination, policy.value_min, weight, evidence
        )
        if soft_raw > raw:
            raw = min(soft_raw, soft_cap)
            reasons.append(f"coordinated soft-only cluster: up to {soft_max.label}")
        entity_cap = max(entity_cap, soft_cap)
    all_behaviour = evidence * weighted(marked, policy, everything, justify)
    if not corroborated(marked, policy):
        all_behaviour = 0.0
    shadow_raw = min(shadow_raw, _behaviour_cap(all_behaviour, policy))

    dt = max(0.0, now - prior.stamp)
    decayed = prior.held * (2.0 ** (-dt / policy.escalation.half_life))
    held = max(raw, decayed) if prior.stamp > 0 else raw
    held = min(held, entity_cap)  # a cluster that lost its hard link falls back
    current = prior.level_at(now)
    candidate = _cap_level(t.level_for(held), policy)
    until = prior.until
    refresh = False
    if candidate > current:
        level, until = candidate, now + policy.ttl.ttl(candidate)
    elif current > Level.NONE and held >= t.threshold(current) - policy.escalation.hysteresis:
        level = current
        ttl = policy.ttl.ttl(current)
        if until - now < ttl / 2:
            until, refresh = now + ttl, True
    else:
        level = candidate
        until = now + policy.ttl.ttl(candidate) if candidate > Level.NONE else 0.0
    if level == Level.NONE:
        until = 0.0

    shown_families = marked if coordination is None else (*marked, coordination)
    for f in shown_families:
        reasons += [f"{f.family}{' (shadow)' if f.shadow else ''}: {r}" for r in f.reasons]
    state = ScoreState(held=held, stamp=now, level=level, until=until)
    pinned = pin is not None and pin.until > now
    shown = level
    if pinned and pin is not None:
        shown = pin.level
        state = ScoreState(held=held, stamp=now)  # start afresh when the pin goes
        reasons.insert(0, f"pinned at {pin.level.label} by {pin.actor}: {pin.reason}")
    if policy.mode == "shadow":
        reasons.insert(0, f"shadow: would_level={shown.label}")
    changed = not pinned and level != current
    assessment = Assessment(
        entity=entity,
        score=held,
        level=shown,
        families=shown_families,
        reasons=tuple(reasons),
        changed=changed,
        previous=current,
        mode=policy.mode,
        pinned=pinned,
        raw=raw,
        shadow_score=max(shadow_raw, decayed),
        refresh=refresh and not pinned,
    )
    dirty = changed or refresh or held > decayed + _DIRTY or prior.level != state.level
    return Verdict(assessment=assessment, state=state, dirty=dirty)
