"""The rate notation of policies: the policy's grammar and messages, ``limits`` underneath."""

from __future__ import annotations

import limits
import pytest

from gateway.notation import parse_rate


@pytest.mark.parametrize(
    ("text", "amount", "period"),
    [
        ("5/second", 5, 1.0),
        ("5/minute", 5, 60.0),
        ("10/5 minutes", 10, 300.0),
        ("600/hour", 600, 3600.0),
        ("1000/day", 1000, 86400.0),
        ("3/2 weeks", 3, 14 * 86400.0),
        ("50000000/month", 50_000_000, 30 * 86400.0),
        ("7/year", 7, 365 * 86400.0),
        (" 1 / 3 days ", 1, 3 * 86400.0),
    ],
)
def test_periods_are_the_notations_own(text: str, amount: int, period: float) -> None:
    rate = parse_rate(text)
    assert (rate.amount, rate.period, rate.text) == (amount, period, text.strip())
    assert isinstance(rate.item, limits.RateLimitItem)
    assert (rate.item.amount, float(rate.item.get_expiry())) == (amount, period)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5 per minute", 'expected "N/period" such as "5/minute", got "5 per minute"'),
        ("5/fortnight", 'expected "N/period" such as "5/minute", got "5/fortnight"'),
        (5, 'expected "N/period" such as "5/minute", got 5'),
        ("0/minute", 'a rate needs a positive amount and period, got "0/minute"'),
        ("5/0 minutes", 'a rate needs a positive amount and period, got "5/0 minutes"'),
    ],
)
def test_errors_are_the_policys_own(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_rate(value)
    assert str(caught.value) == message


def test_the_item_drives_a_limits_strategy() -> None:
    """The parsed rate is a working ``limits`` item: a moving window admits ``amount``."""
    item = parse_rate("3/minute").item
    window = limits.strategies.MovingWindowRateLimiter(limits.storage.MemoryStorage())
    admitted = [window.hit(item, "account") for _ in range(5)]
    assert admitted == [True, True, True, False, False]


def test_equal_text_equal_rate() -> None:
    assert parse_rate("5/minute") == parse_rate("5/minute")
    assert parse_rate("5/minute") != parse_rate("6/minute")
