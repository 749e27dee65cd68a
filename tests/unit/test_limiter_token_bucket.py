"""The pure budget math (mirrored by lua/acquire.lua and lua/settle.lua)."""

from __future__ import annotations

import math

import pytest

from gateway.budgets import arithmetic as tb

NOW = 1_000_000.0


def test_emission_interval_and_validation() -> None:
    assert tb.emission_interval(60, 10) == 6.0
    with pytest.raises(ValueError):
        tb.emission_interval(60, 0)


def test_bucket_burst_and_refusal() -> None:
    tat: float | None = None
    verdicts = []
    for _ in range(4):
        verdict, new_tat = tb.bucket_check(tat, NOW, 1, 3, 2.0, 2.0)
        if verdict.allowed:
            tat = new_tat
        verdicts.append(verdict)
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[3].retry_after == pytest.approx(2.0)
    assert verdicts[2].reset_after == pytest.approx(6.0)  # until full


def test_bucket_refills_with_time() -> None:
    _, tat = tb.bucket_check(None, NOW, 3, 3, 2.0, 2.0)
    assert not tb.bucket_check(tat, NOW + 1.9, 1, 3, 2.0, 2.0)[0].allowed
    verdict, _ = tb.bucket_check(tat, NOW + 4.0, 1, 3, 2.0, 2.0)
    assert verdict.allowed and verdict.remaining == 1


def test_oversized_charge_never_passes() -> None:
    verdict, tat = tb.bucket_check(None, NOW, 4, 3, 2.0, 2.0)
    assert not verdict.allowed and verdict.retry_after == math.inf and tat == NOW


def test_throttle_costs_more_time_per_unit() -> None:
    tat: float | None = None
    allowed = 0
    for _ in range(4):
        verdict, new_tat = tb.bucket_check(tat, NOW, 1, 4, 1.0, tb.throttled_step(1.0, True, 0.5))
        if verdict.allowed:
            allowed += 1
            tat = new_tat
    assert allowed == 2  # burst 4 -> 2 at factor 0.5
    assert tb.throttled_step(1.0, False, 0.5) == 1.0


def test_throttled_charge_above_throttled_burst_passes_on_a_full_bucket() -> None:
    verdict, tat = tb.bucket_check(None, NOW, 3, 4, 1.0, 2.0)
    assert verdict.allowed and tat == NOW + 4.0
    assert not tb.bucket_check(tat, NOW, 3, 4, 1.0, 2.0)[0].allowed


def test_adjust_refund_floor_and_debt() -> None:
    assert tb.bucket_adjust(NOW + 10, NOW, -3, 2.0) == NOW + 4
    assert tb.bucket_adjust(NOW + 10, NOW, -30, 2.0) == NOW
    assert tb.bucket_adjust(None, NOW, 5, 2.0) == NOW + 10
    assert tb.bucket_adjust(NOW - 50, NOW, -1, 2.0) == NOW


def test_window_resets_at_aligned_boundary() -> None:
    now = 86400.0 * 100 + 50
    verdict, index, used = tb.window_check(None, 0, now, 86400, 2, 3)
    assert verdict.allowed and index == 100 and used == 2
    assert verdict.reset_after == pytest.approx(86400 - 50)
    refused, _, _ = tb.window_check(index, used, now, 86400, 2, 3)
    assert not refused.allowed and refused.retry_after == pytest.approx(86400 - 50)
    fresh, index2, used2 = tb.window_check(index, used, 86400.0 * 101, 86400, 2, 3)
    assert fresh.allowed and index2 == 101 and used2 == 2
    assert tb.window_check(None, 0, now, 86400, 4, 3)[0].retry_after == math.inf


def test_window_adjust() -> None:
    assert tb.window_adjust(1, 5, 150.0, 100, -2) == 3
    assert tb.window_adjust(1, 5, 150.0, 100, -9) == 0
    assert tb.window_adjust(0, 5, 150.0, 100, -2) == 0  # a past window's refund is dropped
    assert tb.window_adjust(0, 5, 150.0, 100, 4) == 4


def test_novelty_cost_in_milli_units() -> None:
    assert tb.novelty_cost(True, 0.1) == 1000
    assert tb.novelty_cost(None, 0.1) == 1000
    assert tb.novelty_cost(False, 0.1) == 100
    assert tb.novelty_cost(False, 0.0) == 0


def test_concurrency() -> None:
    assert tb.concurrency_check([], False, NOW, 2, 30).remaining == 1
    full = tb.concurrency_check([NOW + 5, NOW + 20], False, NOW, 2, 30)
    assert not full.allowed and full.retry_after == tb.CONCURRENCY_RETRY
    assert full.reset_after == pytest.approx(20)
    assert tb.concurrency_check([NOW + 5, NOW + 20], True, NOW, 2, 30).allowed
    soon = tb.concurrency_check([NOW + 0.25], False, NOW, 1, 30)
    assert soon.retry_after == pytest.approx(0.25)


def test_quantize_to_microseconds() -> None:
    assert tb.quantize(1.2345674) == 1.234567
    assert tb.quantize(math.inf) == math.inf
