"""An in-process budget store with the Redis store's exact semantics.

Used by single-replica deployments, tests, simulations and as the per-process fallback of
:class:`gateway.limiter.resilient.ResilientStore`. Time comes from the injected clock. Every
entry carries the expiry Redis would give its key (bucket: until full; window and novelty:
window end; concurrency: latest lease; levels and flags: their TTL) and a lazy sweep forgets
expired entries, so memory stays bounded by the number of active keys.

All methods are coroutines without awaits inside, hence atomic on one event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.budgets import arithmetic as tb
from gateway.clock import Clock
from gateway.limiter.admission import is_throttled, level_refuses, state_of, to_level, validate
from gateway.model import AcquireRequest, AcquireResult, BudgetState, Charge, Level, Settlement


@dataclass(slots=True)
class _Window:
    index: int
    used: int
    cells: set[int] = field(default_factory=set)


class MemoryBudgetStore:
    """BudgetStore in one process. ``sweep_every``: seconds of clock time between sweeps."""

    def __init__(self, clock: Clock, *, sweep_every: float = 30.0) -> None:
        self._clock = clock
        self._sweep_every = sweep_every
        self._next_sweep = clock.now() + sweep_every
        self._tats: dict[str, float] = {}
        self._windows: dict[str, _Window] = {}
        self._leases: dict[str, dict[str, float]] = {}
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
        self._tats.pop(key, None)
        self._windows.pop(key, None)
        self._leases.pop(key, None)
        self._levels.pop(key, None)
        self._flags.pop(key, None)

    def _run(self, request: AcquireRequest, *, commit: bool) -> AcquireResult:
        validate(request)
        now = self._now()
        level = max((self._level_at(k, now) for k in request.level_keys), default=0)
        cleared = any(self._flag_at(k, now) for k in request.clearance_keys)
        throttled = is_throttled(level, request.throttle_factor)
        states: list[BudgetState] = []
        pending: list[tuple[Charge, float, int, int]] = []
        admitted = not level_refuses(level, cleared)
        for charge in request.charges:
            state, payload = self._evaluate(charge, request, now, throttled)
            states.append(state)
            if state.allowed:
                pending.append((charge, *payload))
            elif charge.budget.mode == "enforce":
                admitted = False
        if admitted and commit:
            for charge, value, index, used in pending:
                self._commit(charge, request.request_id, now, value, index, used)
        return AcquireResult(
            allowed=admitted, states=tuple(states), level=to_level(level), cleared=cleared
        )

    def _evaluate(
        self, charge: Charge, request: AcquireRequest, now: float, throttled: bool
    ) -> tuple[BudgetState, tuple[float, int, int]]:
        spec = charge.budget
        key = spec.key
        if spec.algorithm == "bucket":
            interval = tb.emission_interval(spec.window, spec.rate)
            step = tb.throttled_step(
                interval, throttled and spec.throttleable, request.throttle_factor
            )
            verdict, tat = tb.bucket_check(
                self._tats.get(key), now, charge.cost, spec.limit, interval, step
            )
            return state_of(spec, verdict), (tat, 0, 0)
        if spec.algorithm == "window":
            win = self._windows.get(key)
            verdict, index, used = tb.window_check(
                win.index if win else None,
                win.used if win else 0,
                now,
                spec.window,
                charge.cost,
                spec.limit,
            )
            return state_of(spec, verdict), (0.0, index, used)
        if spec.algorithm == "novelty":
            return self._evaluate_novelty(charge, now)
        leases = self._leases.get(key, {})
        live = [when for when in leases.values() if when > now]
        present = leases.get(request.request_id, now) > now
        if charge.cost > spec.limit:
            verdict = tb.Verdict(False, 0, 0.0, tb.INF)
        else:
            verdict = tb.concurrency_check(live, present, now, spec.limit, spec.window)
        return state_of(spec, verdict), (0.0, 0, 0)

    def _evaluate_novelty(
        self, charge: Charge, now: float
    ) -> tuple[BudgetState, tuple[float, int, int]]:
        spec = charge.budget
        win = self._windows.get(spec.key)
        index = tb.window_index(now, spec.window)
        novel: bool | None = None
        if charge.cell is not None:
            novel = not (win is not None and win.index == index and charge.cell in win.cells)
        verdict, index, used = tb.window_check(
            win.index if win else None,
            win.used if win else 0,
            now,
            spec.window,
            tb.novelty_cost(novel, spec.repeat_cost),
            spec.limit * tb.MILLI,
        )
        verdict = verdict._replace(remaining=verdict.remaining // tb.MILLI)
        return state_of(spec, verdict, novel), (0.0, index, used)

    def _commit(
        self, charge: Charge, request_id: str, now: float, tat: float, index: int, used: int
    ) -> None:
        spec = charge.budget
        key = spec.key
        if spec.algorithm == "bucket":
            self._tats[key] = tat
            self._expires[key] = tat
        elif spec.algorithm == "concurrency":
            leases = self._leases.setdefault(key, {})
            for member in [m for m, when in leases.items() if when <= now]:
                del leases[member]
            leases[request_id] = now + spec.window
            self._expires[key] = max(leases.values())
        else:
            win = self._windows.get(key)
            if win is None or win.index != index:
                win = self._windows[key] = _Window(index, used)
            win.used = used
            if spec.algorithm == "novelty" and charge.cell is not None:
                win.cells.add(charge.cell)
            self._expires[key] = (index + 1) * spec.window

    async def settle(self, settlement: Settlement) -> None:
        now = self._now()
        for spec, delta in settlement.adjustments:
            key = spec.key
            if spec.algorithm == "bucket":
                interval = tb.emission_interval(spec.window, spec.rate)
                tat = tb.bucket_adjust(self._tats.get(key), now, delta, interval)
                self._tats[key] = tat
                self._expires[key] = tat
            elif spec.algorithm == "window":
                win = self._windows.get(key)
                used = tb.window_adjust(
                    win.index if win else None, win.used if win else 0, now, spec.window, delta
                )
                index = tb.window_index(now, spec.window)
                self._windows[key] = _Window(index, used)
                self._expires[key] = (index + 1) * spec.window
        for spec in settlement.releases:
            self._leases.get(spec.key, {}).pop(settlement.request_id, None)

    async def refresh_leases(self, request_ids_by_key: dict[str, list[str]], ttl: float) -> None:
        now = self._now()
        for key, request_ids in request_ids_by_key.items():
            leases = self._leases.get(key)
            if not leases:
                continue
            for request_id in request_ids:
                if leases.get(request_id, now) > now:
                    leases[request_id] = now + ttl
            self._expires[key] = max(self._expires.get(key, now), now + ttl)

    async def set_level(self, key: str, level: Level, ttl: float) -> None:
        now = self._now()
        if level <= Level.NONE:
            if key in self._expires:
                self._forget(key)
            return
        self._levels[key] = (int(level), now + ttl)
        self._expires[key] = now + ttl

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
