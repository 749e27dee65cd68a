"""Coordination of a soft-only cluster: the evidence a crowd of unrelated accounts does not
produce, and the cluster's separate score path.

A cluster linked only by soft evidence (IP prefix, prompt frame, synchrony) may be a crowd:
people behind one NAT, users of one agent framework, customers' cron jobs. Summed over a
crowd, topic coverage, activity around the clock and single-turn use look like a sweep, so
those families never count on this path. What counts:

* **synchrony above chance**: the share of requests sent within ``SYNC_WINDOW`` of another
  member's, minus the share the cluster's own request rate explains (a busy crowd is often
  within two seconds of itself by chance), over what is left. The rate is the larger of two
  estimates: the recent inter-arrival mean, and the decayed request counter read as a rate;
* **members at their limits**: the share of requests that hit or nearly hit a budget;
* **template fan-out**: the share of requests whose prompt frame many accounts send
  (weighted down: a popular app's frame fans out too).

The path acts only with a harvest-value signal (the elicitation family at ``value_min`` or
more) and only up to ``coordination.max_level`` (see :func:`coordinated_raw`).
"""

from __future__ import annotations

import math

from gateway.detection.coordination_policy import Coordination
from gateway.detection.detectors import Context, gate, noisy_or, ramp
from gateway.detection.state import SYNC_WINDOW
from gateway.detection.types import EntityState, Finding

FAMILY = "coordination"


def request_rate(state: EntityState, half_life: float) -> float:
    """Requests per second the cluster sends now (the larger of two estimates, 0 if none)."""
    rates = [0.0]
    if state.iat_samples > 0 and state.iat_mean > 0:
        rates.append(1.0 / state.iat_mean)
    span = state.last_seen - state.first_seen
    if span > 0 and half_life > 0:
        # a steady rate r fills the decayed counter to r * h/ln2 * (1 - 2**(-span/h))
        filled = (half_life / math.log(2.0)) * (1.0 - 2.0 ** (-span / half_life))
        rates.append(state.counter("req") / filled)
    return max(rates)


def chance_synchrony(state: EntityState, half_life: float) -> float:
    """The share of requests a crowd at the cluster's rate sends within SYNC_WINDOW of the
    previous one (Poisson arrivals)."""
    return 1.0 - math.exp(-SYNC_WINDOW * request_rate(state, half_life))


def sync_excess(state: EntityState, half_life: float) -> float:
    """Member synchrony above chance, 0..1 (0: no more than a crowd at this rate)."""
    chance = chance_synchrony(state, half_life)
    if chance >= 1.0:
        return 0.0
    return max(0.0, (state.share("sync") - chance) / (1.0 - chance))


def coordination(state: EntityState, ctx: Context, policy: Coordination) -> Finding:
    """The coordination finding of a soft-only cluster (0 below min_requests)."""
    excess = sync_excess(state, ctx.half_life)
    chance = chance_synchrony(state, ctx.half_life)
    sync = state.share("sync")
    hug = state.share("hug")
    fan = state.share("fan")
    parts = [
        (
            ramp(excess, policy.sync_low, policy.sync_high),
            f"member synchrony {sync:.2f} against {chance:.2f} by chance",
        ),
        (ramp(hug, policy.at_limit_low, policy.at_limit_high), f"at-limit share {hug:.2f}"),
        (
            policy.fanout_weight * ramp(fan, policy.fanout_low, policy.fanout_high),
            f"fanned-out frame share {fan:.2f}",
        ),
    ]
    conf = gate(state, ctx)
    score = conf * noisy_or([s for s, _ in parts])
    reasons = tuple(r for s, r in parts if s >= 0.25) if conf > 0 else ()
    return Finding(family=FAMILY, score=round(score, 6), reasons=reasons)


def coordinated_raw(
    found: Finding,
    findings: tuple[Finding, ...],
    policy: Coordination,
    value_min: float,
    elicitation_weight: float,
    evidence: float,
) -> float:
    """The soft path's raw score: coordination and the value signal combined (noisy-or),
    scaled by the evidence; 0 unless coordination reaches ``min_score`` and the elicitation
    family ``value_min``."""
    value = max((f.score for f in findings if f.family == "elicitation"), default=0.0)
    if policy.max_level == "none" or found.score < policy.min_score or value < value_min:
        return 0.0
    return evidence * noisy_or([found.score, min(1.0, elicitation_weight * value)])
