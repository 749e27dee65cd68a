"""The scorer's verdict on an entity's state, and the co-activity tracker's parameters, of a
policy (pure): what the batch (:mod:`gateway.detection.batch`) and the engine's explain and
re-score paths read alike."""

from __future__ import annotations

from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.coordination import coordination
from gateway.detection.scorer import Verdict, score
from gateway.detection.synchrony import SynchronyPolicy
from gateway.detection.types import EntityState
from gateway.model import Level


def synchrony_policy(policy: DetectionPolicy) -> SynchronyPolicy:
    """The co-activity tracker's parameters of ``policy``."""
    c = policy.tuning
    return SynchronyPolicy(
        delta=c.synchrony_delta,
        local=c.synchrony_local,
        horizon=c.synchrony_horizon,
        min_meetings=c.synchrony_min_meetings,
        alpha=c.synchrony_alpha,
        partners=c.synchrony_partners,
    )


def verdict_of(
    state: EntityState,
    policy: DetectionPolicy,
    now: float,
    *,
    cluster: bool,
    accounts: int = 0,
    max_level: Level = Level.BLOCK,
    soft: bool = False,
) -> Verdict:
    """The scorer's verdict on ``state`` (pure); ``accounts``: a template entity's senders;
    ``soft``: a cluster linked by soft evidence only (its coordination is scored too)."""
    ctx = detectors.Context(
        min_requests=policy.min_requests,
        cluster=cluster,
        accounts=accounts,
        template_accounts=policy.tuning.template_accounts,
        half_life=policy.tuning.counter_half_life,
    )
    findings = detectors.assess(state, ctx)
    evidence = detectors.confidence(state, ctx)
    found = coordination(state, ctx, policy.coordination) if soft else None
    return score(
        state.entity, findings, state.score, state.pin, policy, now, evidence, max_level, found
    )
