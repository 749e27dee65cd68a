"""A small circuit breaker: closed -> open after N consecutive failures -> half-open probe.

While open, callers skip the store entirely (no per-request wait on a dead Redis). After
``open_for`` seconds one call is let through as a probe: success closes the breaker,
failure opens it again. Time comes from the injected clock.
"""

from __future__ import annotations

from typing import Literal

from gateway.clock import Clock

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(self, clock: Clock, *, failures: int = 3, open_for: float = 3.0) -> None:
        if failures < 1 or open_for <= 0:
            raise ValueError("a breaker needs failures >= 1 and open_for > 0")
        self._clock = clock
        self._threshold = failures
        self._open_for = open_for
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self.state: BreakerState = "closed"

    @property
    def suspect(self) -> bool:
        """Closed, but a failure was recorded since the last success."""
        return self._failures > 0 and self.state == "closed"

    def allow(self) -> bool:
        """May the next call go to the store? (In half-open, only the probe may.)"""
        if self.state == "closed":
            return True
        if self.state == "open" and self._clock.now() >= self._open_until:
            self.state = "half_open"
        if self.state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> bool:
        """Record a success; True when this closed the breaker."""
        self._failures = 0
        self._probing = False
        if self.state == "closed":
            return False
        self.state = "closed"
        return True

    def failure(self) -> bool:
        """Record a failure; True when this opened the breaker."""
        self._probing = False
        self._failures += 1
        if self.state == "half_open" or (
            self.state == "closed" and self._failures >= self._threshold
        ):
            self.state = "open"
            self._open_until = self._clock.now() + self._open_for
            return True
        return False

    def abandon(self) -> None:
        """A call was cancelled before it could tell: let another probe try."""
        self._probing = False
