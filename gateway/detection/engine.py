"""The detection engine: observe a request (off the hot path), score, write level keys, audit.

The level keys written here (``keys.account_level`` / ``keys.cluster_level``) are read by the
budget script on every request; this engine never sits on the hot path itself. In shadow mode
nothing is written: assessments report the level that would apply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gateway.clock import Clock
from gateway.detection.batch import VERIFICATION_TTL, Batch, Sighting
from gateway.detection.config import DetectionPolicy
from gateway.detection.explain import explain, floor_record
from gateway.detection.floors import Scored
from gateway.detection.levels import LevelStore
from gateway.detection.newcomer_floor import floored
from gateway.detection.newcomers import cohorts
from gateway.detection.scorer import Verdict
from gateway.detection.stacks import StackChurn
from gateway.detection.state import DetectorStateStore, ScoreWrite
from gateway.detection.synchrony import synchronous_many
from gateway.detection.types import (
    Assessment,
    EntityState,
    Pin,
    ScoreState,
    entity_of_account,
    entity_of_cluster,
)
from gateway.detection.verdicts import verdict_of
from gateway.model import Fingerprint, Identity, Level, RequestFeatures
from gateway.redis.keys import KeyBuilder

__all__ = ["VERIFICATION_TTL", "DetectionEngine", "Sighting"]


class DetectionEngine:
    def __init__(
        self,
        state_store: DetectorStateStore,
        budget_store: LevelStore,
        keys: KeyBuilder,
        policy_provider: Callable[[], DetectionPolicy],
        clock: Clock,
        *,
        on_assessment: Callable[[Assessment], None] | None = None,
        hard_links: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        """``hard_links(cluster_id)``: the cluster has a hard link (payment, org, operator);
        without it every cluster counts as hard-linked (full level range)."""
        self.state = state_store
        self.budgets = budget_store
        self.keys = keys
        self.policy_provider = policy_provider
        self.clock = clock
        self.on_assessment = on_assessment
        self.hard_links = hard_links
        self._enabled_in: DetectionPolicy | None = None  # the policy _enabled describes
        self._enabled: dict[str | None, bool] = {}

    def enabled_for(self, tier: str | None) -> bool:
        """Detection runs for ``tier`` (looked up once per policy and tier)."""
        policy = self.policy_provider()
        if policy is not self._enabled_in:
            self._enabled_in, self._enabled = policy, {}
        found = self._enabled.get(tier)
        if found is None:
            found = self._enabled[tier] = policy.for_tier(tier).enabled
        return found

    # -- the observation path -------------------------------------------------------------

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
        sighting = Sighting(identity, cluster_id, cluster_size, fingerprint, features, now, limited)
        return (await self.observe_many([sighting]))[0]

    async def observe_many(
        self, sightings: Sequence[Sighting]
    ) -> list[tuple[Assessment, Assessment]]:
        """Observe every sighting; (account, cluster) assessments: an entity's verdict after
        the batch, for each of its sightings. A batch costs three store round trips
        (fan-out, observe, scores) plus the rare level, audit and pin writes, and one script
        call per entity observed. An SDK retry is no new behaviour: it only reads the
        states after the batch. Sightings with ids are idempotent: applying a batch again
        (after a worker died before acknowledging it) changes no detector state."""
        fresh = [s for s in sightings if s.features.retry_count == 0]
        observed = iter(await self._observe_run(fresh))
        return [
            next(observed) if s.features.retry_count == 0 else await self._retried(s)
            for s in sightings
        ]

    async def _observe_run(
        self, sightings: Sequence[Sighting]
    ) -> list[tuple[Assessment, Assessment]]:
        if not sightings:
            return []
        batch = Batch(
            sightings,
            self.policy_provider().for_tier,
            lambda: self.clock.now() + VERIFICATION_TTL,
            await self._soft_only(sightings),
        )
        fanouts = batch.fanouts()
        counts = await self.state.fanout_many(fanouts) if fanouts else []
        chains = batch.chain_requests()
        inherited = await self.state.chains.inherit_many(chains) if chains else []
        observations = batch.observations(counts, inherited)
        states = (
            await self.state.observe_batches(observations, self.clock.now()) if observations else []
        )
        synchronous = await self._synchrony(batch, states)
        scored = batch.score(states, synchronous, await self._stack_churn(batch))
        scored = floored(scored, await cohorts(self.state.newcomers, batch.last_sightings(states)))
        writes = [
            ScoreWrite(s.state.entity, s.verdict.state, s.policy.tuning.window)
            for s in scored
            if s.verdict.dirty
        ]
        if writes:
            await self.state.save_scores(writes)
        applied = {item.state.entity: await self._apply(item) for item in scored}
        out: list[tuple[Assessment, Assessment]] = []
        for s, policy in zip(sightings, batch.policies, strict=True):
            account, cluster = (
                entity_of_account(s.identity.account_id),
                entity_of_cluster(s.cluster_id),
            )
            solitary = s.cluster_size <= 1 and s.cluster_id == s.identity.account_id
            a = applied.get(account) if policy.enabled else None
            c = applied.get(cluster) if policy.enabled and not solitary else None
            out.append((a or _idle(account, policy), c or _idle(cluster, policy)))
        return out

    async def _synchrony(self, batch: Batch, states: Sequence[EntityState]) -> dict[str, int]:
        """Record the batch's episodes in the shared co-activity store, then ask it about the
        accounts whose streams agree: per account, its synchronous partners."""
        episodes = batch.episodes()
        if not episodes:
            return {}
        await self.state.coactivity.record_many(episodes)
        asks = batch.synchrony_asks(states)
        found = await synchronous_many(self.state.coactivity, list(asks.values()))
        return dict(zip(asks, found, strict=True))

    async def _stack_churn(self, batch: Batch) -> dict[str, StackChurn]:
        """Record the batch's client stacks; per account, its churn after its last one."""
        requests = batch.stack_requests()
        if not requests:
            return {}
        found = await self.state.stacks.record_stacks(requests)
        return {r.account: churn for r, churn in zip(requests, found, strict=True)}

    async def _soft_only(self, sightings: Sequence[Sighting]) -> frozenset[str]:
        """The clusters of ``sightings`` with no hard link (looked up, cached by the lookup)."""
        if self.hard_links is None:
            return frozenset()
        clusters = {
            s.cluster_id
            for s in sightings
            if not (s.cluster_size <= 1 and s.cluster_id == s.identity.account_id)
        }
        return frozenset([c for c in sorted(clusters) if not await self.hard_links(c)])

    async def _retried(self, s: Sighting) -> tuple[Assessment, Assessment]:
        """An SDK retry only reads the states (it is not new behaviour)."""
        policy = self.policy_provider().for_tier(s.identity.tier)
        if not policy.enabled:
            return (
                _idle(entity_of_account(s.identity.account_id), policy),
                _idle(entity_of_cluster(s.cluster_id), policy),
            )
        solitary = s.cluster_size <= 1 and s.cluster_id == s.identity.account_id
        c_entity = entity_of_cluster(s.cluster_id)
        a_state = await self.state.load(entity_of_account(s.identity.account_id), s.now)
        c_state = None if solitary else await self.state.load(c_entity, s.now)
        return _held(a_state, policy, s.now), _held(c_state, policy, s.now, c_entity)

    async def _apply(self, item: Scored) -> Assessment:
        """The writes of one verdict besides its score: level key, audit, verification."""
        verdict, policy, now = item.verdict, item.policy, item.now
        a = verdict.assessment
        if policy.mode == "enforce" and not item.template:
            key = self._level_key(item.cluster_id, item.account_id)
            if item.floor > Level.NONE:  # a floor's level, above the account's own
                ttl = max(0.0, item.floor_until - now)
                before = await self.budgets.set_level(key, item.floor, ttl)  # read and set at once
                if before < item.floor:  # audited once per raise (one writer), not per batch
                    record = {**floor_record(item, before, now), "evidence": _evidence(item.state)}
                    await self.state.append_audit(
                        item.state.entity, record, policy.audit_size, policy.tuning.window
                    )
            elif a.changed or a.refresh:
                await self.budgets.set_level(
                    key, verdict.state.level, max(0.0, verdict.state.until - now)
                )
        if a.changed:
            await self._audit(item.state, verdict, policy, "detector")
        if item.pin is not None:
            await self._write_pin(item.state.entity, item.pin, VERIFICATION_TTL, item.cluster_id)
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
        pin = Pin(Level(level), self.clock.now() + ttl, actor, reason, verification)
        await self._write_pin(entity, pin, ttl, cluster_id)
        return pin

    async def _write_pin(self, entity: str, pin: Pin, ttl: float, cluster_id: str | None) -> None:
        await self.state.set_pin(entity, pin, self.clock.now())
        await self.budgets.set_level(self._entity_level_key(entity, cluster_id), pin.level, ttl)
        await self._operator_audit(
            entity, pin.actor, pin.reason, f"pin {pin.level.label} for {ttl:.0f}s"
        )

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

    async def view(
        self, entity: str, tier: str | None = None, cluster_id: str | None = None
    ) -> dict[str, Any]:
        """A JSON-able view of ``entity``: {score, level, reasons, families, pinned, ...}.
        ``level`` is what the request path enforces (its level key and, for an account, its
        cluster's, ``cluster_id``), ``level_source`` the path that set it (see
        :func:`gateway.detection.explain.explain`); ``own_level`` its own score's or pin's."""
        now = self.clock.now()
        policy = self.policy_provider().for_tier(tier)
        state = await self.state.load(entity, now)
        verdict = verdict_of(state, policy, now, cluster=entity.startswith("c:"))
        view = verdict.assessment.to_json()
        audit = await self.state.audit(entity, 20)
        own = state.pin.level if state.pin else state.score.level_at(now)
        keyed = cluster = Level.NONE
        if entity[:2] in ("a:", "c:"):
            keyed = await self.budgets.get_level(self._entity_level_key(entity, cluster_id))
            if entity.startswith("a:") and cluster_id:
                cluster = await self.budgets.get_level(self.keys.cluster_level(cluster_id))
        why = explain(own, state.pin is not None, keyed, cluster, audit, now)
        floor = why["floor"]
        if floor and why["level_source"] == floor["path"]:  # its reasons, the floor's last
            view["reasons"] = [*view.get("reasons", ()), *floor["reasons"][-1:]]
        view.update(
            score=round(state.score.held * _decay(state.score.stamp, now, policy), 4),
            level=why["effective_level"],
            requests=state.requests,
            pinned=state.pin.to_json() if state.pin else None,
            audit=audit,
            **{k: v for k, v in why.items() if k != "effective_level"},
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
