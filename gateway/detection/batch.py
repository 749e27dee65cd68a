"""Observing many requests at once: the plan and the pure scoring of one batch.

The engine observes a batch with a fixed number of store round trips, whatever its size:
template fan-out of every request, then every account and cluster observation, then the
scores to persist (see :meth:`DetectionEngine.observe_many`). The result is exactly that of
observing the requests one by one: stores apply a batch in order, and an entity observed
twice in one batch sees the score (and the pin) its earlier observation produced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.observation import observation, template_of
from gateway.detection.scorer import Verdict, score
from gateway.detection.state import FanoutRequest, ObserveRequest
from gateway.detection.types import (
    EntityState,
    Pin,
    ScoreState,
    entity_of_account,
    entity_of_cluster,
)
from gateway.model import Fingerprint, Identity, Level, RequestFeatures

VERIFICATION_TTL = 90 * 86400.0  # verification stays until an operator clears it (or 90 days)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One served request, as detection observes it (no prompt text)."""

    identity: Identity
    cluster_id: str
    cluster_size: int
    fingerprint: Fingerprint
    features: RequestFeatures
    now: float
    limited: bool = False


@dataclass(frozen=True, slots=True)
class Scored:
    """One entity's verdict in a batch, and what must be written for it."""

    index: int  # the sighting
    state: EntityState  # as scored (earlier verdicts of the batch applied)
    verdict: Verdict
    policy: DetectionPolicy
    now: float
    cluster_id: str
    account_id: str | None  # None: the cluster entity
    pin: Pin | None  # a verification pin to write (an account that reached block)


@dataclass(frozen=True, slots=True)
class _Planned:
    index: int
    sighting: Sighting
    policy: DetectionPolicy
    template: int
    solitary: bool


class Batch:
    """A run of sightings (no SDK retries: the engine reads those at their place): which
    are observed (detection on for the tier), their store calls and their verdicts."""

    def __init__(
        self,
        sightings: Sequence[Sighting],
        policy_for: Callable[[str | None], DetectionPolicy],
        verification_until: Callable[[], float],
    ) -> None:
        tiers: dict[str | None, DetectionPolicy] = {}
        for s in sightings:
            if s.identity.tier not in tiers:
                tiers[s.identity.tier] = policy_for(s.identity.tier)
        self.policies = [tiers[s.identity.tier] for s in sightings]
        self._planned: list[_Planned] = []
        self._verification_until = verification_until
        for i, (s, policy) in enumerate(zip(sightings, self.policies, strict=True)):
            if policy.enabled:
                solitary = s.cluster_size <= 1 and s.cluster_id == s.identity.account_id
                template = template_of(s.fingerprint)
                self._planned.append(_Planned(i, s, policy, template, solitary))

    def fanouts(self) -> list[FanoutRequest]:
        return [
            FanoutRequest(p.template, p.sighting.identity.account_id, p.policy.tuning.window)
            for p in self._planned
            if p.template
        ]

    def observations(self, counts: Sequence[int]) -> list[ObserveRequest]:
        """Account (then, in a cluster, cluster) observations, given the fan-out counts."""
        requests: list[ObserveRequest] = []
        found = iter(counts)
        for p in self._planned:
            s, policy = p.sighting, p.policy
            fanout = bool(p.template) and next(found) >= policy.tuning.template_fanout
            window, half_life = policy.tuning.window, policy.tuning.counter_half_life
            account = s.identity.account_id
            obs = observation(
                s.fingerprint, s.features, policy, s.now, fanout=fanout, limited=s.limited
            )
            requests.append(
                ObserveRequest(entity_of_account(account), obs, s.now, window, half_life)
            )
            if not p.solitary:
                obs = replace(obs, member=account)
                entity = entity_of_cluster(s.cluster_id)
                requests.append(ObserveRequest(entity, obs, s.now, window, half_life))
        return requests

    def score(self, states: Sequence[EntityState]) -> list[Scored]:
        """Score every observed state in order (pure)."""
        scores: dict[str, ScoreState] = {}  # persisted earlier in this batch
        pins: dict[str, Pin] = {}  # written earlier in this batch
        out: list[Scored] = []
        found = iter(states)
        for p in self._planned:
            s = p.sighting
            members: list[str | None] = [s.identity.account_id]
            if not p.solitary:
                members.append(None)
            for account_id in members:
                state = next(found)
                entity = state.entity
                if entity in scores or entity in pins:
                    state = replace(
                        state,
                        score=scores.get(entity, state.score),
                        pin=pins.get(entity, state.pin),
                    )
                verdict = verdict_of(state, p.policy, s.now, cluster=account_id is None)
                if verdict.dirty:
                    scores[entity] = verdict.state
                pin = self._verification(verdict, p.policy, account_id)
                if pin is not None:
                    pins[entity] = pin
                out.append(
                    Scored(p.index, state, verdict, p.policy, s.now, s.cluster_id, account_id, pin)
                )
        return out

    def _verification(
        self, verdict: Verdict, policy: DetectionPolicy, account_id: str | None
    ) -> Pin | None:
        a = verdict.assessment
        if (
            a.changed
            and policy.mode == "enforce"
            and policy.verification.enabled
            and a.level == Level.BLOCK
            and account_id is not None
        ):
            return Pin(
                Level.BLOCK, self._verification_until(), "detector", "verification_required", True
            )
        return None


def verdict_of(
    state: EntityState, policy: DetectionPolicy, now: float, *, cluster: bool
) -> Verdict:
    """The scorer's verdict on ``state`` (pure)."""
    ctx = detectors.Context(min_requests=policy.min_requests, cluster=cluster)
    findings = detectors.assess(state, ctx)
    evidence = detectors.confidence(state, ctx)
    return score(state.entity, findings, state.score, state.pin, policy, now, evidence)
