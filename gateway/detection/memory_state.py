"""In-process detector state (tests, evaluation kit, simulations): bounded per entity."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.clock import Clock
from gateway.detection.chains import MemoryChains
from gateway.detection.coactivity import MemoryCoActivity
from gateway.detection.newcomers import MemoryNewcomers
from gateway.detection.stacks import MemoryStacks
from gateway.detection.state import (
    APPLIED_CAP,
    APPLIED_HORIZON,
    NOVELTY_ALPHA,
    SYNC_WINDOW,
    EntityBatch,
    FanoutRequest,
    ScoreWrite,
    decay_factor,
    ewma_update,
)
from gateway.detection.types import (
    CELL_BITS,
    COUNTERS,
    TOPICS,
    EntityState,
    Observation,
    Pin,
    ScoreState,
)

_BITMAP_BYTES = (1 << CELL_BITS) // 8
_MASK = (1 << CELL_BITS) - 1


@dataclass(slots=True)
class _Bitmaps:
    """Current and previous window epoch of one 2**14-bit bitmap."""

    epoch: int = -1
    current: bytearray = field(default_factory=lambda: bytearray(_BITMAP_BYTES))
    previous: bytearray | None = None

    def test(self, value: int) -> bool:
        """The bit is set in the current or the previous epoch (call after
        :meth:`test_and_set` of the same epoch)."""
        bit = value & _MASK
        byte, mask = bit >> 3, 0x80 >> (bit & 7)
        return bool(self.current[byte] & mask) or (
            self.previous is not None and bool(self.previous[byte] & mask)
        )

    def test_and_set(self, value: int, epoch: int) -> bool:
        """Set the bit; True if it was already set in this or the previous epoch."""
        if epoch != self.epoch:
            self.previous = self.current if epoch == self.epoch + 1 else None
            self.current = bytearray(_BITMAP_BYTES)
            self.epoch = epoch
        bit = value & _MASK
        byte, mask = bit >> 3, 0x80 >> (bit & 7)
        seen = bool(self.current[byte] & mask) or (
            self.previous is not None and bool(self.previous[byte] & mask)
        )
        self.current[byte] |= mask
        return seen


@dataclass(slots=True)
class _Histograms:
    """Coarse-topic counts (saturating at 65535) of the current and previous window epoch."""

    epoch: int = -1
    current: list[int] = field(default_factory=lambda: [0] * TOPICS)
    previous: list[int] | None = None

    def add(self, topic: int, epoch: int) -> None:
        if epoch != self.epoch:
            self.previous = self.current if epoch == self.epoch + 1 else None
            self.current = [0] * TOPICS
            self.epoch = epoch
        self.current[topic % TOPICS] = min(0xFFFF, self.current[topic % TOPICS] + 1)

    def counts(self, epoch: int) -> tuple[int, ...]:
        if epoch == self.epoch:
            prev = self.previous or [0] * TOPICS
            return tuple(a + b for a, b in zip(self.current, prev, strict=True))
        if epoch == self.epoch + 1:
            return tuple(self.current)
        return (0,) * TOPICS


@dataclass(slots=True)
class _Entity:
    requests: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    counters: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))
    iat_mean: float = 0.0
    iat_var: float = 0.0
    iat_samples: int = 0
    novelty: float = 1.0
    last_member: str = ""
    hours: list[int] = field(default_factory=lambda: [-1] * 24)
    topics: _Histograms = field(default_factory=_Histograms)
    cells: _Bitmaps = field(default_factory=_Bitmaps)
    skeletons: _Bitmaps = field(default_factory=_Bitmaps)
    exact: _Bitmaps = field(default_factory=_Bitmaps)
    score: ScoreState = field(default_factory=ScoreState)
    expires: float = math.inf


class MemoryStateStore:
    """Detector state in a dict; idle entities expire after a window (swept lazily)."""

    def __init__(self, clock: Clock, *, sweep_every: int = 4096) -> None:
        self._clock = clock
        self._entities: dict[str, _Entity] = {}
        self._pins: dict[str, Pin] = {}
        self._fanout: dict[int, tuple[set[str], float]] = {}
        self._audit: dict[str, deque[dict[str, Any]]] = {}
        self._applied: dict[str, dict[str, float]] = {}  # entity -> sighting id -> when
        self._ops = 0
        self._sweep_every = sweep_every
        self.coactivity = MemoryCoActivity()  # episodes and meetings (synchrony)
        self.stacks = MemoryStacks()  # recent client stacks (stack churn)
        self.newcomers = MemoryNewcomers()  # newcomer records and cohorts
        self.chains = MemoryChains()  # asks kept in stored state (chains)

    def __len__(self) -> int:
        return len(self._entities)

    async def observe(
        self,
        entity: str,
        obs: Observation,
        now: float,
        *,
        window: float,
        half_life: float,
        sighting: str = "",
    ) -> EntityState:
        state = self._observe(entity, obs, now, window, half_life, sighting, now)
        self._forget(entity, now)
        return state

    def _observe(
        self,
        entity: str,
        obs: Observation,
        now: float,
        window: float,
        half_life: float,
        sighting: str,
        at: float,
    ) -> EntityState:
        self._tick(now, at)
        if not self._admit(entity, sighting, at):
            return self._loaded(entity, now)
        e = self._live(entity, now) or _Entity(first_seen=now, last_seen=now)
        self._entities[entity] = e
        epoch = int(now // window)
        novel_cell = not e.cells.test_and_set(obs.cell, epoch)
        skel_seen = e.skeletons.test_and_set(obs.skeleton, epoch)
        novel_exact = not e.exact.test_and_set(obs.exact, epoch)
        dt = now - e.last_seen
        factor = decay_factor(dt, half_life)
        incs = obs.increments(novel_cell, novel_exact, skel_seen and novel_exact)
        adopted = obs.thread != 0 and not e.exact.test(obs.thread)
        incs["adopt"] = float(adopted and not obs.single_turn)  # a continuation is single
        incs["sync"] = float(
            e.requests > 0
            and obs.member != ""
            and e.last_member not in ("", obs.member)
            and dt <= SYNC_WINDOW
        )
        for name in COUNTERS:
            e.counters[name] = e.counters[name] * factor + incs.get(name, 0.0)
        if e.requests > 0:
            e.iat_mean, e.iat_var = ewma_update(e.iat_mean, e.iat_var, e.iat_samples, dt)
            e.iat_samples += 1
        e.novelty += NOVELTY_ALPHA * (float(novel_cell) - e.novelty)
        hour = int(now // 3600)
        e.hours[hour % 24] = hour
        if not obs.follow_up:
            e.topics.add(obs.topic, epoch)
        elif adopted:  # a conversation taken over: its first ask is this entity's new topic
            e.topics.add(obs.thread_topic, epoch)
        e.requests += 1
        e.last_seen = now
        e.last_member = obs.member
        e.expires = now + window
        return self._snapshot(entity, e, now)

    async def observe_batches(self, batches: Sequence[EntityBatch], at: float) -> list[EntityState]:
        out: list[EntityState] = []
        for b in batches:
            for seen in b.seen:
                state = self._observe(
                    b.entity, seen.obs, seen.now, b.window, b.half_life, seen.sighting, at
                )
            self._forget(b.entity, at)
            out.append(state)
        return out

    def _admit(self, entity: str, sighting: str, at: float) -> bool:
        """False when ``entity`` applied ``sighting`` already (see :meth:`_forget`)."""
        if not sighting:
            return True
        applied = self._applied.setdefault(entity, {})
        if sighting in applied:
            return False
        applied[sighting] = at
        return True

    def _forget(self, entity: str, at: float) -> None:
        """After an entity's batch, as observe.lua does: forget the ids applied more than
        ``APPLIED_HORIZON`` seconds before ``at``, then all but the ``APPLIED_CAP`` last
        (by time applied, then id)."""
        applied = self._applied.get(entity)
        if not applied:
            return
        oldest = next(iter(applied.values()))  # ids are applied in time order, mostly
        if len(applied) > APPLIED_CAP or oldest < at - APPLIED_HORIZON:
            kept = sorted((t, k) for k, t in applied.items() if t >= at - APPLIED_HORIZON)
            self._applied[entity] = {k: t for t, k in kept[-APPLIED_CAP:]}

    async def load(self, entity: str, now: float) -> EntityState:
        return self._loaded(entity, now)

    def _loaded(self, entity: str, now: float) -> EntityState:
        e = self._live(entity, now)
        if e is None:
            return EntityState(entity=entity, pin=self._pin(entity, now))
        return self._snapshot(entity, e, now)

    async def save_score(self, entity: str, score: ScoreState, ttl: float) -> None:
        now = self._clock.now()
        e = self._live(entity, now)
        if e is None:
            e = _Entity(first_seen=now, last_seen=now, expires=now + ttl)
            self._entities[entity] = e
        e.score = score

    async def save_scores(self, writes: Sequence[ScoreWrite]) -> None:
        for w in writes:
            await self.save_score(w.entity, w.score, w.ttl)

    async def set_pin(self, entity: str, pin: Pin | None, now: float) -> None:
        if pin is None:
            self._pins.pop(entity, None)
        else:
            self._pins[entity] = pin

    async def template_fanout(self, skeleton: int, account_id: str, window: float) -> int:
        now = self._clock.now()
        senders, expires = self._fanout.get(skeleton, (set(), now + window))
        if expires <= now:
            senders = set()
        senders.add(account_id)
        self._fanout[skeleton] = (senders, now + window)
        return len(senders)

    async def fanout_many(self, requests: Sequence[FanoutRequest]) -> list[int]:
        return [await self.template_fanout(r.template, r.account_id, r.window) for r in requests]

    async def append_audit(
        self, entity: str, record: dict[str, Any], keep: int, ttl: float
    ) -> None:
        log = self._audit.get(entity)
        if log is None or log.maxlen != keep:
            log = deque(log or (), maxlen=keep)
            self._audit[entity] = log
        log.appendleft(dict(record))

    async def audit(self, entity: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(self._audit.get(entity, ()))[:limit]

    async def close(self) -> None:
        self._entities.clear()

    def _pin(self, entity: str, now: float) -> Pin | None:
        pin = self._pins.get(entity)
        if pin is not None and pin.until <= now:
            del self._pins[entity]
            return None
        return pin

    def _live(self, entity: str, now: float) -> _Entity | None:
        e = self._entities.get(entity)
        if e is not None and e.expires <= now:
            del self._entities[entity]
            return None
        return e

    def _tick(self, now: float, at: float) -> None:
        self._ops += 1
        if self._ops % self._sweep_every:
            return
        for name in [k for k, e in self._entities.items() if e.expires <= now]:
            del self._entities[name]
        for skel in [k for k, (_, exp) in self._fanout.items() if exp <= now]:
            del self._fanout[skel]
        horizon = at - APPLIED_HORIZON
        for name in [k for k, ids in self._applied.items() if max(ids.values()) < horizon]:
            del self._applied[name]

    def _snapshot(self, entity: str, e: _Entity, now: float) -> EntityState:
        hour = int(now // 3600)
        return EntityState(
            entity=entity,
            requests=e.requests,
            first_seen=e.first_seen,
            last_seen=e.last_seen,
            counters=dict(e.counters),
            iat_mean=e.iat_mean,
            iat_var=e.iat_var,
            iat_samples=e.iat_samples,
            novelty_ewma=e.novelty,
            active_hours=sum(1 for h in e.hours if h > hour - 24),
            histogram=e.topics.counts(e.topics.epoch),
            score=e.score,
            pin=self._pin(entity, now),
        )
