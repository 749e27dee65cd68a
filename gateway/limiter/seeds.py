"""What Redis last said about each budget, so that the fail-open fallback starts from it.

:class:`LastSeen` keeps, per budget key, the ``remaining`` of the latest decision Redis
returned to this process (with when it was seen), and per detection level key the latest
level, in bounded LRU maps. :meth:`LastSeen.remaining` answers what that budget would hold
*now*, as the budget's kind says (``seen_now``: a bucket has refilled at its rate since, a
window quota is full again once its window has ended; concurrency is not seeded). A key
this process never saw (or forgot) answers None: the fallback decides what that means (see
:mod:`gateway.limiter.fallback`).
"""

from __future__ import annotations

import math
from collections import OrderedDict

from gateway.budgets.registry import KINDS
from gateway.model import AcquireRequest, AcquireResult, BudgetSpec

REMEMBERED = 65536  # budget keys (and level keys) remembered, least recently seen dropped


class LastSeen:
    def __init__(self, capacity: int = REMEMBERED) -> None:
        self._capacity = capacity
        self._budgets: OrderedDict[str, tuple[int, float]] = OrderedDict()  # remaining, at
        self._levels: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._budgets)

    def record(self, request: AcquireRequest, result: AcquireResult, now: float) -> None:
        """Remember a decision Redis made (a commit or a peek). Once a budget is remembered,
        its entry is updated in place (no reordering on every request): when the map is full
        the entries remembered first go, and a busy budget among them is remembered again
        at its next decision."""
        budgets = self._budgets
        for state in result.states:
            budgets[state.budget.key] = (state.remaining, now)
        while len(budgets) > self._capacity:
            budgets.popitem(last=False)
        # the level Redis reports is the highest of the request's level keys: every one of
        # them gets it (an account in a blocked cluster stays blocked while Redis is away)
        levels = self._levels
        for key in request.level_keys:
            if result.level or key in levels:
                levels[key] = int(result.level)
                levels.move_to_end(key)
        while len(levels) > self._capacity:
            levels.popitem(last=False)

    def remaining(self, spec: BudgetSpec, now: float) -> float | None:
        """Units ``spec`` would hold now, fleet-wide, from what Redis last said; None when
        never seen (or not a seeded kind of budget)."""
        seen = self._budgets.get(spec.key)
        if seen is None:
            return None
        return KINDS[spec.algorithm].seen_now(spec, *seen, now)

    def note_level(self, key: str, level: int) -> None:
        """A level set while Redis is away replaces the one last seen."""
        if key in self._levels:
            self._levels[key] = level

    def level(self, keys: tuple[str, ...]) -> int:
        """The highest level last seen on any of ``keys`` (0 when none was)."""
        levels = self._levels
        return max((levels.get(key, 0) for key in keys), default=0)


def share(units: float, replicas: int) -> int:
    """One replica's share of ``units`` (rounded down: the fleet never exceeds the whole)."""
    return math.floor(units / replicas + 1e-9)
