from __future__ import annotations

from gateway.clock import FakeClock
from gateway.limiter.breaker import CircuitBreaker


def test_opens_after_consecutive_failures_and_probes_after_the_pause() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, failures=3, open_for=2.0)
    assert breaker.allow()
    assert not breaker.failure() and not breaker.failure()
    assert breaker.allow()
    assert breaker.failure()  # third in a row
    assert breaker.state == "open" and not breaker.allow()
    clock.advance(2.0)
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    assert breaker.success() and breaker.state == "closed"


def test_failed_probe_reopens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, failures=1, open_for=5.0)
    breaker.failure()
    clock.advance(5.0)
    assert breaker.allow()
    assert breaker.failure() and breaker.state == "open"
    clock.advance(4.9)
    assert not breaker.allow()


def test_success_resets_the_count_and_abandon_frees_the_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, failures=2, open_for=1.0)
    breaker.failure()
    breaker.success()
    assert not breaker.failure() and breaker.state == "closed"
    breaker.failure()
    clock.advance(1.0)
    assert breaker.allow()
    breaker.abandon()
    assert breaker.allow()
