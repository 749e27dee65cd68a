"""The detection engine: observe a request (off the hot path), score, write level keys, audit.

The level keys written here (``keys.account_level`` / ``keys.cluster_level``) are read by the
budget script on every request; this engine never sits on the hot path itself. In shadow mode
nothing is written: assessments report the level that would apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.clock import Clock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.observation import observation, template_of
from gateway.detection.scorer import Verdict, score
from gateway.detection.state import DetectorStateStore
from gateway.detection.types import (
    Assessment,
    EntityState,
    Pin,
    ScoreState,
    entity_of_account,
    entity_of_cluster,
)
from gateway.detection.worker import BackgroundWorker
from gateway.limiter.keys import KeyBuilder
from gateway.limiter.store import BudgetStore
from gateway.model import Fingerprint, Identity, Level, RequestFeatures

VERIFICATION_TTL = 90 * 86400.0  # verification stays until an operator clears it (or 90 days)


class DetectionEngine:
    def __init__(
        self,
        state_store: DetectorStateStore,
        budget_store: BudgetStore,
        keys: KeyBuilder,
        policy_provider: Callable[[], DetectionPolicy],
        clock: Clock,
        *,
        queue_size: int = 10_000,
        on_assessment: Callable[[Assessment], None] | None = None,
    ) -> None:
        self.state = state_store
        self.budgets = budget_store
        self.keys = keys
        self.policy_provider = policy_provider
        self.clock = clock
        self.worker = BackgroundWorker(maxsize=queue_size)
        self.on_assessment = on_assessment

    # -- the observation path -------------------------------------------------------------

    def submit(
        self,
        identity: Identity,
        cluster_id: str,
        cluster_size: int,
        fingerprint: Fingerprint,
        features: RequestFeatures,
        now: float | None = None,
        *,
        limited: bool = False,
    ) -> bool:
        """Queue an observation without awaiting it; False when dropped (queue full)."""
        when = self.clock.now() if now is None else now

        async def job() -> object:
            return await self.observe(
                identity, cluster_id, cluster_size, fingerprint, features, when, limited=limited
            )

        return self.worker.submit(job)

    async def observe(
        self,
        identity: Identity,
        cluster_id: str,
        cluster_size: int,
        fingerprint: Fingerprint,
        features: RequestFeatures,
        now: float,
        *,
        limited: bool = False,
    ) -> tuple[Assessment, Assessment]:
        """Update the account's and the cluster's state; return both assessments."""
        policy = self.policy_provider().for_tier(identity.tier)
        account = identity.account_id
        a_entity, c_entity = entity_of_account(account), entity_of_cluster(cluster_id)
        solitary = cluster_size <= 1 and cluster_id == account
        if not policy.enabled:
            return _idle(a_entity, policy), _idle(c_entity, policy)
        if features.retry_count > 0:  # an SDK retry is not new behaviour
            a_state = await self.state.load(a_entity, now)
            c_state = None if solitary else await self.state.load(c_entity, now)
            return _held(a_state, policy, now), _held(c_state, policy, now, c_entity)
        fanout = False
        template = template_of(fingerprint)
        if template:
            senders = await self.state.template_fanout(template, account, policy.tuning.window)
            fanout = senders >= policy.tuning.template_fanout
        obs = observation(fingerprint, features, policy, now, fanout=fanout, limited=limited)
        window, half_life = policy.tuning.window, policy.tuning.counter_half_life
        a_state = await self.state.observe(a_entity, obs, now, window=window, half_life=half_life)
        a_result = await self._assess(a_state, policy, now, cluster_id, account)
        if solitary:
            return a_result, _idle(c_entity, policy)
        obs = observation(
            fingerprint, features, policy, now, member=account, fanout=fanout, limited=limited
        )
        c_state = await self.state.observe(c_entity, obs, now, window=window, half_life=half_life)
        c_result = await self._assess(c_state, policy, now, cluster_id, None)
        return a_result, c_result

    async def _assess(
        self,
        state: EntityState,
        policy: DetectionPolicy,
        now: float,
        cluster_id: str,
        account_id: str | None,
    ) -> Assessment:
        ctx = detectors.Context(min_requests=policy.min_requests, cluster=account_id is None)
        findings = detectors.assess(state, ctx)
        evidence = detectors.confidence(state, ctx)
        verdict = score(state.entity, findings, state.score, state.pin, policy, now, evidence)
        a = verdict.assessment
        if verdict.dirty:
            await self.state.save_score(state.entity, verdict.state, policy.tuning.window)
        if policy.mode == "enforce" and (a.changed or a.refresh):
            key = self._level_key(cluster_id, account_id)
            await self.budgets.set_level(
                key, verdict.state.level, max(0.0, verdict.state.until - now)
            )
        if a.changed:
            await self._audit(state, verdict, policy, "detector")
            if (
                policy.mode == "enforce"
                and policy.verification.enabled
                and a.level == Level.BLOCK
                and account_id is not None
            ):
                await self.pin(
                    state.entity,
                    Level.BLOCK,
                    VERIFICATION_TTL,
                    "detector",
                    "verification_required",
                    cluster_id=cluster_id,
                    verification=True,
                )
        if self.on_assessment is not None:
            self.on_assessment(a)
        return a

    def _level_key(self, cluster_id: str, account_id: str | None) -> str:
        if account_id is None:
            return self.keys.cluster_level(cluster_id)
        return self.keys.account_level(cluster_id, account_id)

    async def _audit(
        self, state: EntityState, verdict: Verdict, policy: DetectionPolicy, actor: str
    ) -> None:
        a = verdict.assessment
        record = {
            "t": self.clock.now(),
            "entity": state.entity,
            "actor": actor,
            "from": a.previous.label,
            "to": a.level.label,
            "mode": a.mode,
            **{
                k: v for k, v in a.to_json().items() if k in ("score", "raw", "families", "reasons")
            },
            "evidence": _evidence(state),
        }
        await self.state.append_audit(state.entity, record, policy.audit_size, policy.tuning.window)

    # -- operators -------------------------------------------------------------------------

    async def pin(
        self,
        entity: str,
        level: Level,
        ttl: float,
        actor: str,
        reason: str,
        *,
        cluster_id: str | None = None,
        verification: bool = False,
    ) -> Pin:
        """Fix ``entity``'s level for ``ttl`` seconds; the scorer does not overwrite it.

        ``entity`` is ``a:<account>`` or ``c:<cluster>``; an account's level key lives under
        its cluster (``cluster_id``, default: the account is its own cluster).
        """
        now = self.clock.now()
        pin = Pin(Level(level), now + ttl, actor, reason, verification)
        await self.state.set_pin(entity, pin, now)
        await self.budgets.set_level(self._entity_level_key(entity, cluster_id), pin.level, ttl)
        await self._operator_audit(entity, actor, reason, f"pin {pin.level.label} for {ttl:.0f}s")
        return pin

    async def clear(
        self, entity: str, actor: str, reason: str, *, cluster_id: str | None = None
    ) -> None:
        """Remove a pin (and a verification requirement) and reset the level to none."""
        now = self.clock.now()
        policy = self.policy_provider()
        await self.state.set_pin(entity, None, now)
        await self.state.save_score(entity, ScoreState(held=0.0, stamp=now), policy.tuning.window)
        await self.budgets.set_level(self._entity_level_key(entity, cluster_id), Level.NONE, 0.0)
        await self._operator_audit(entity, actor, reason, "clear")

    async def requires_verification(self, account_id: str) -> bool:
        """The account must verify its identity (only an operator clears this)."""
        state = await self.state.load(entity_of_account(account_id), self.clock.now())
        return state.pin is not None and state.pin.verification

    async def view(self, entity: str, tier: str | None = None) -> dict[str, Any]:
        """A JSON-able view of ``entity``: {score, level, reasons, families, pinned, ...}."""
        now = self.clock.now()
        policy = self.policy_provider().for_tier(tier)
        state = await self.state.load(entity, now)
        ctx = detectors.Context(min_requests=policy.min_requests, cluster=entity.startswith("c:"))
        findings = detectors.assess(state, ctx)
        evidence = detectors.confidence(state, ctx)
        verdict = score(entity, findings, state.score, state.pin, policy, now, evidence)
        a = verdict.assessment
        view = a.to_json()
        view.update(
            score=round(state.score.held * _decay(state.score.stamp, now, policy), 4),
            level=(state.pin.level if state.pin else state.score.level_at(now)).label,
            requests=state.requests,
            pinned=state.pin.to_json() if state.pin else None,
            audit=await self.state.audit(entity, 20),
        )
        return view

    def _entity_level_key(self, entity: str, cluster_id: str | None) -> str:
        kind, _, ident = entity.partition(":")
        if kind == "c":
            return self.keys.cluster_level(ident)
        if kind == "a":
            return self.keys.account_level(cluster_id or ident, ident)
        raise ValueError(f"entity must be a:<account> or c:<cluster>, got {entity!r}")

    async def _operator_audit(self, entity: str, actor: str, reason: str, action: str) -> None:
        record = {"t": self.clock.now(), "entity": entity, "actor": actor, "action": action}
        record["reason"] = reason
        policy = self.policy_provider()
        await self.state.append_audit(entity, record, policy.audit_size, policy.tuning.window)

    # -- lifecycle -------------------------------------------------------------------------

    async def drain(self) -> None:
        await self.worker.drain()

    async def close(self) -> None:
        await self.worker.stop()


def _decay(stamp: float, now: float, policy: DetectionPolicy) -> float:
    return float(2.0 ** (-max(0.0, now - stamp) / policy.escalation.half_life))


def _idle(entity: str, policy: DetectionPolicy) -> Assessment:
    return Assessment(entity=entity, score=0.0, level=Level.NONE, mode=policy.mode)


def _held(
    state: EntityState | None, policy: DetectionPolicy, now: float, entity: str = ""
) -> Assessment:
    if state is None:
        return _idle(entity, policy)
    level = state.pin.level if state.pin else state.score.level_at(now)
    held = state.score.held * _decay(state.score.stamp, now, policy)
    return Assessment(
        entity=state.entity, score=held, level=level, mode=policy.mode, pinned=bool(state.pin)
    )


def _evidence(state: EntityState) -> dict[str, Any]:
    return {
        "requests": state.requests,
        "shares": {k: round(state.share(k), 3) for k in state.counters if k != "req"},
        "iat_mean": round(state.iat_mean, 3),
        "active_hours": state.active_hours,
        "novelty": round(state.novelty_ewma, 3),
    }
