"""Time, injected everywhere a decision depends on it.

Where time comes from is decided here and only here:

* In-process components (memory store, detectors, challenges, the evaluation kit)
  read an injected :class:`Clock`.
* The Redis store uses the Redis server's ``TIME`` inside its Lua scripts when it is
  built without a clock (production: every replica agrees on one clock, no skew), and
  the caller's clock when one is injected (tests and simulated weeks).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock seconds since the Unix epoch, as a float."""

    def now(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = when
