"""The fail-open fallback limiter: every budget divided among replicas, on ``limits``.

While Redis is unreachable under ``failure_mode: open``, each replica decides alone with
this limiter (the ``limits`` library's in-memory storage and fixed-window strategy). Each
budget becomes one ``limits`` item, its amount one replica's share (``limit //
replicas``, at least 1):

* ``bucket`` (burst L, rate R per W): the share of L per the time the share takes to refill
  at ``R / replicas`` (``"2/48 second"`` for 5/minute on 2 replicas): the same long-run
  rate, the same burst;
* ``window`` quota and ``novelty`` (every request counts as novel: no cells are kept): the
  share per window;
* ``concurrency``: the share in flight, released on settlement (a lease is not refreshed;
  the count resets after the lease TTL).

**Seeding** (it does not start full). A budget starts from what Redis last told this
replica about it (:class:`~gateway.limiter.seeds.LastSeen`: its remaining, refilled since,
divided among replicas): an account that had spent its budget stays refused. A bucket this
replica never saw starts *empty* and fills at its fallback rate (its first admission after
one refill period): an outage must not hand every unknown account a fresh burst per
replica. A window quota never seen starts with its share (the buckets bound the rate; a
day-long quota starting empty would refuse for a day). Detection levels start from the
last level seen, so a blocked account stays blocked. The whole state is dropped when Redis
is back (:meth:`FallbackLimiter.reset`), so the next outage starts from fresher states.

Each kind says its part (``fallback_seconds``, ``fallback_cost``, ``seeded``,
``starts_empty``, ``seed_expiry`` in :mod:`gateway.budgets`); this module names none.

Time: ``limits``' storage reads the wall clock (``time.time()``) for its windows; seeds use
the injected clock.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from gateway.budgets.arithmetic import INF
from gateway.budgets.registry import KINDS
from gateway.clock import Clock
from gateway.limiter.admission import is_throttled, level_refuses, to_level, validate
from gateway.limiter.seeds import LastSeen, share
from gateway.memo import BoundedMemo
from gateway.model import (
    AcquireRequest,
    AcquireResult,
    BudgetSpec,
    BudgetState,
    Level,
    Settlement,
)

_TRACKED = 65536  # items and seeded keys remembered


class FallbackLimiter:
    def __init__(self, clock: Clock, replicas: int, seen: LastSeen) -> None:
        self._clock = clock
        self._replicas = max(1, replicas)
        self._seen = seen
        self._storage = MemoryStorage()
        self._windows = FixedWindowRateLimiter(self._storage)
        self._items: BoundedMemo[BudgetSpec, tuple[RateLimitItem, str]] = BoundedMemo(
            _TRACKED
        )  # and its storage key
        self._seeded: OrderedDict[str, None] = OrderedDict()
        self._admitted: OrderedDict[str, None] = OrderedDict()  # request ids, for settle

    def reset(self) -> None:
        """Forget everything (Redis is back: the next outage seeds from fresher states)."""
        self._storage.reset()
        self._seeded.clear()

    def admitted(self, request_id: str) -> bool:
        return request_id in self._admitted

    def item(self, spec: BudgetSpec) -> RateLimitItem:
        """The ``limits`` item of one replica's share of ``spec``."""
        return self._item(spec)[0]

    def _item(self, spec: BudgetSpec) -> tuple[RateLimitItem, str]:
        """The item and its storage key (``key_for`` costs ~10 µs: computed once)."""
        found = self._items.get(spec)
        if found is None:
            amount = max(1, share(spec.limit, self._replicas))
            seconds = KINDS[spec.algorithm].fallback_seconds(spec, amount, self._replicas)
            item = parse(f"{amount}/{max(1, math.ceil(seconds))} second")
            found = self._items.put(spec, (item, item.key_for(spec.key)))
        return found

    def acquire(self, request: AcquireRequest, *, commit: bool = True) -> AcquireResult:
        validate(request)
        now = self._clock.now()
        level = max(self._seen.level(request.level_keys), self._level(request.level_keys))
        cleared = any(self._storage.get(_flag(k)) > 0 for k in request.clearance_keys)
        throttled = is_throttled(level, request.throttle_factor)
        admitted = not level_refuses(level, cleared)
        states, costs = [], []
        for charge in request.charges:
            spec = charge.budget
            item, key = self._item(spec)
            self._seed(spec, item, key, now)
            cost = KINDS[spec.algorithm].fallback_cost(charge, throttled, request.throttle_factor)
            used = self._storage.get(key)  # what FixedWindowRateLimiter.test reads
            allowed = used + cost <= item.amount
            states.append(self._state(spec, item, key, used, cost))
            costs.append((item, spec.key, cost, allowed))
            if not allowed and spec.mode == "enforce":
                admitted = False
        if admitted and commit:
            for item, key, cost, allowed in costs:
                if allowed and cost:
                    self._windows.hit(item, key, cost=cost)
            self._admitted[request.request_id] = None
            if len(self._admitted) > _TRACKED:
                self._admitted.popitem(last=False)
        return AcquireResult(admitted, tuple(states), to_level(level), cleared, fallback=True)

    def _seed(self, spec: BudgetSpec, item: RateLimitItem, key: str, now: float) -> None:
        """Start ``spec`` from its last seen state (or empty, see the module docstring)."""
        kind = KINDS[spec.algorithm]
        if spec.key in self._seeded or not kind.seeded:
            return
        self._seeded[spec.key] = None
        if len(self._seeded) > _TRACKED:
            self._seeded.popitem(last=False)
        seen = self._seen.remaining(spec, now)
        if seen is None and not kind.starts_empty:
            return  # an unseen quota starts with its share
        have = 0 if seen is None else share(seen, self._replicas)
        used = item.amount - min(item.amount, have)
        if used <= 0:
            return
        expiry = kind.seed_expiry(spec, item.get_expiry(), used, item.amount, now)
        self._storage.incr(key, max(expiry, 0.001), amount=used)

    def _state(
        self, spec: BudgetSpec, item: RateLimitItem, key: str, used: int, cost: int
    ) -> BudgetState:
        remaining = max(0, item.amount - used)
        # limits' storage keeps wall-clock expiries; an unused item starts its window anew
        left = max(0.0, self._storage.get_expiry(key) - time.time()) if used else 0.0
        if cost <= remaining:
            return BudgetState(spec, True, remaining - cost, left, 0.0)
        retry = INF if cost > item.amount else left
        return BudgetState(spec, False, remaining, left, retry)

    def settle(self, settlement: Settlement) -> None:
        """Token true-ups and slot releases of a request this limiter admitted."""
        self._admitted.pop(settlement.request_id, None)
        for spec, delta in settlement.adjustments:
            item, key = self._item(spec)
            if delta > 0:
                self._storage.incr(key, item.get_expiry(), amount=delta)
            elif delta < 0:
                self._storage.decr(key, -delta)
        for spec in settlement.releases:
            self._storage.decr(self._item(spec)[1], 1)

    def _level(self, keys: tuple[str, ...]) -> int:
        return max((self._storage.get(_level(k)) for k in keys), default=0)

    def set_level(self, key: str, level: Level, ttl: float) -> Level:
        """Returns the level held before (what :meth:`get_level` said)."""
        before = self.get_level(key)
        self._seen.note_level(key, int(level))
        self._storage.clear(_level(key))
        if level > Level.NONE:
            self._storage.incr(_level(key), ttl, amount=int(level))
        return before

    def get_level(self, key: str) -> Level:
        return to_level(max(self._storage.get(_level(key)), self._seen.level((key,))))

    def set_flag(self, key: str, ttl: float) -> bool:
        """SET NX with a TTL: False when the flag is already set."""
        return self._storage.incr(_flag(key), ttl) == 1


def _level(key: str) -> str:
    return f"level/{key}"


def _flag(key: str) -> str:
    return f"flag/{key}"
