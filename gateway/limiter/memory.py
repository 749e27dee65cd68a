"""An in-process budget store with the Redis store's exact semantics.

Each budget kind's arithmetic is the kind's own (``local_check``, ``local_commit``,
``local_settle`` in :mod:`gateway.budgets`); this module keeps the entries, their expiries,
levels and flags, and the all-or-nothing commit.

Used by single-replica deployments, tests, simulations and as the per-process fallback of
:class:`gateway.limiter.resilient.ResilientStore`. Time comes from the injected clock. Every
entry carries the expiry Redis would give its key (bucket: until full; window and novelty:
window end; concurrency: latest lease; levels and flags: their TTL) and a lazy sweep forgets
expired entries, so memory stays bounded by the number of active keys.

All methods are coroutines without awaits inside, hence atomic on one event loop.
"""

from __future__ import annotations

from typing import Any

from gateway.budgets.kind import BudgetKind, Entries, Moment
from gateway.budgets.registry import KINDS
from gateway.clock import Clock
from gateway.limiter.admission import is_throttled, level_refuses, to_level, validate
from gateway.model import AcquireRequest, AcquireResult, BudgetState, Charge, Level, Settlement


class MemoryBudgetStore:
    """BudgetStore in one process. ``sweep_every``: seconds of clock time between sweeps."""

    def __init__(self, clock: Clock, *, sweep_every: float = 30.0) -> None:
        self._clock = clock
        self._sweep_every = sweep_every
        self._next_sweep = clock.now() + sweep_every
        self._entries: Entries = {}  # budget key -> its kind's entry
        self._levels: dict[str, tuple[int, float]] = {}
        self._flags: dict[str, float] = {}
        self._expires: dict[str, float] = {}

    def __len__(self) -> int:
        """Keys currently held (for tests of bounded memory)."""
        return len(self._expires)

    async def acquire(self, request: AcquireRequest) -> AcquireResult:
        return self._run(request, commit=True)

    async def peek(self, request: AcquireRequest) -> AcquireResult:
        return self._run(request, commit=False)

    def _now(self) -> float:
        now = self._clock.now()
        if now >= self._next_sweep:
            self._sweep(now)
        return now

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_every
        for key in [k for k, when in self._expires.items() if when <= now]:
            self._forget(key)

    def _forget(self, key: str) -> None:
        del self._expires[key]
        self._entries.pop(key, None)
        self._levels.pop(key, None)
        self._flags.pop(key, None)

    def _run(self, request: AcquireRequest, *, commit: bool) -> AcquireResult:
        validate(request)
        now = self._now()
        level = max((self._level_at(k, now) for k in request.level_keys), default=0)
        cleared = any(self._flag_at(k, now) for k in request.clearance_keys)
        throttled = is_throttled(level, request.throttle_factor)
        states: list[BudgetState] = []
        pending: list[tuple[BudgetKind, Charge, Any]] = []
        admitted = not level_refuses(level, cleared)
        entries = self._entries
        at = Moment(request.request_id, now, throttled, request.throttle_factor)
        for charge in request.charges:
            kind = KINDS[charge.budget.algorithm]
            state, payload = kind.local_check(entries, charge, at)
            states.append(state)
            if state.allowed:
                pending.append((kind, charge, payload))
            elif charge.budget.mode == "enforce":
                admitted = False
        if admitted and commit:
            for kind, charge, payload in pending:
                expiry = kind.local_commit(entries, charge, at, payload)
                self._expires[charge.budget.key] = expiry
        return AcquireResult(
            allowed=admitted, states=tuple(states), level=to_level(level), cleared=cleared
        )

    async def settle(self, settlement: Settlement) -> None:
        now = self._now()
        entries = self._entries
        for spec, delta in settlement.adjustments:
            expiry = KINDS[spec.algorithm].local_settle(entries, spec, delta, now)
            if expiry >= 0:
                self._expires[spec.key] = expiry
        for spec in settlement.releases:
            KINDS[spec.algorithm].local_release(entries, spec, settlement.request_id)

    async def refresh_leases(self, request_ids_by_key: dict[str, list[str]], ttl: float) -> None:
        now = self._now()
        for key, request_ids in request_ids_by_key.items():
            leases = self._entries.get(key)
            if not isinstance(leases, dict) or not leases:  # a concurrency budget's leases
                continue
            for request_id in request_ids:
                if leases.get(request_id, now) > now:
                    leases[request_id] = now + ttl
            self._expires[key] = max(self._expires.get(key, now), now + ttl)

    async def set_level(self, key: str, level: Level, ttl: float) -> Level:
        now = self._now()
        before = to_level(self._level_at(key, now))
        if level <= Level.NONE:
            if key in self._expires:
                self._forget(key)
            return before
        self._levels[key] = (int(level), now + ttl)
        self._expires[key] = now + ttl
        return before

    async def get_level(self, key: str) -> Level:
        return to_level(self._level_at(key, self._now()))

    async def set_flag(self, key: str, ttl: float) -> bool:
        now = self._now()
        if self._flag_at(key, now):
            return False
        self._flags[key] = now + ttl
        self._expires[key] = now + ttl
        return True

    def _level_at(self, key: str, now: float) -> int:
        level, until = self._levels.get(key, (0, now))
        return level if until > now else 0

    def _flag_at(self, key: str, now: float) -> bool:
        return self._flags.get(key, now) > now

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None
