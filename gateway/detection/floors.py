"""The floors: paths that raise an account above its own score for a while.

A frame or ask cohort it sends (its level passed on, see :mod:`gateway.detection.batch`),
synchrony with unlinked partners (:mod:`gateway.detection.synchrony`), client-stack churn
(:mod:`gateway.detection.stacks`) and a newcomer cohort (:mod:`gateway.detection.newcomer_floor`).
Each raised verdict (:class:`Scored`) names its path and carries its reason, so the engine
can audit the raise and the admin view can explain it (:mod:`gateway.detection.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy, level_of
from gateway.detection.scorer import Verdict
from gateway.detection.stacks import StackChurn
from gateway.detection.types import EntityState, Pin
from gateway.model import Level

# the paths that raise an account above its own score (shown in audits and the admin view)
FLOOR_PATHS = ("template_or_cohort", "synchrony", "stack_churn", "newcomer_cohort")


@dataclass(frozen=True, slots=True)
class Scored:
    """One entity's verdict in a batch, and what must be written for it."""

    index: int  # the entity's last sighting in the batch
    state: EntityState  # after the batch
    verdict: Verdict
    policy: DetectionPolicy
    now: float
    cluster_id: str
    account_id: str | None  # None: the cluster (or template) entity
    pin: Pin | None  # a verification pin to write (an account that reached block)
    template: bool = False  # the entity is a prompt frame (no level key of its own)
    floor: Level = Level.NONE  # an account: the level its frame passes on to it
    floor_until: float = 0.0
    path: str = ""  # which path set ``floor`` (see FLOOR_PATHS)


def stream_agrees(state: EntityState, policy: DetectionPolicy) -> bool:
    """The account's own stream is a squad member's: enough requests, single-turn, never-seen
    asks (CI suites repeat, classrooms follow up)."""
    c = policy.tuning
    return (
        state.requests >= c.cohort_member_requests
        and state.share("single") >= c.cohort_member_single
        and state.share("nov_exact") >= c.synchrony_member_novel
    )


def valued(state: EntityState, policy: DetectionPolicy, requests: int) -> bool:
    """The elicitation family (CoT wording, logprobs or n>1, maximum output) reaches
    ``stack_churn_value_min`` on the account's stream, counted from ``requests`` requests
    instead of the scorer's ``min_requests`` (churn is judged early, on few requests)."""
    ctx = detectors.Context(min_requests=requests, half_life=policy.tuning.counter_half_life)
    return detectors.elicitation(state, ctx).score >= policy.tuning.stack_churn_value_min


def synchrony_floor(item: Scored, found: int, policy: DetectionPolicy) -> Scored:
    """``item`` floored at ``synchrony_level`` when the account meets ``found`` unlinked
    partners far above chance, enough of them (asked only when its own stream agrees)."""
    c = policy.tuning
    level = level_of(c.synchrony_level)
    if not c.synchrony or found < c.synchrony_partners:
        return item
    reason = f"synchrony: meets {found} unlinked accounts far above chance"
    return floor_to(item, level, item.now + c.window, reason, "synchrony")


def churn_floor(
    item: Scored, churn: StackChurn | None, state: EntityState, policy: DetectionPolicy
) -> Scored:
    """``item`` floored at ``stack_churn_level`` when the account's client stack keeps
    changing and the rest of its stream agrees: single-turn, never-seen asks (behaviour) and
    a harvest-value signal (see :func:`valued`). Churn alone is also one company's many
    services, each with its own SDK."""
    c = policy.tuning
    level = level_of(c.stack_churn_level)
    if (
        churn is None
        or not churn.churning(c.stack_churn_min, c.stack_churn_distinct)
        or not stream_agrees(state, policy)
        or not valued(state, policy, c.stack_churn_min)
    ):
        return item
    reason = f"client stack churn: {churn.distinct} stacks in its last {churn.kept} requests"
    return floor_to(item, level, item.now + c.window, reason, "stack_churn")


def floor_to(
    item: Scored, floor: Level, until: float, reason: str = "", path: str = "template_or_cohort"
) -> Scored:
    """An account's verdict raised to the level ``path`` (one of FLOOR_PATHS) passes on;
    ``item`` itself when its level is already at or above ``floor`` (a floor never lowers,
    nor re-raises: the one place of that rule for every path)."""
    a = item.verdict.assessment
    if a.level >= floor:
        return item
    reason = reason or f"frame or ask cohort level {floor.label} (sent by many accounts)"
    shown = replace(a, level=floor, reasons=(*a.reasons, reason))
    verdict = replace(item.verdict, assessment=shown)
    return replace(item, verdict=verdict, floor=floor, floor_until=until, path=path)
