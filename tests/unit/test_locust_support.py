"""The locustfile's refusal names and pacing (without locust)."""

from __future__ import annotations

import pytest

from loadtest.locust_support import Pacer, refusal_kind


def _error(type_: str, code: str | None) -> dict[str, object]:
    return {"error": {"message": "m", "type": type_, "param": None, "code": code}}


@pytest.mark.parametrize(
    ("status", "payload", "kind"),
    [
        (429, _error("requests", "rate_limit_exceeded"), "429 budget"),
        (429, _error("organization_tokens", "rate_limit_exceeded"), "429 budget"),
        (429, _error("insufficient_quota", "insufficient_quota"), "429 budget"),
        (429, _error("diversity", "rate_limit_exceeded"), "429 diversity"),
        (429, _error("organization_diversity", "rate_limit_exceeded"), "429 diversity"),
        (403, _error("permission_error", "challenge_required"), "403 challenge"),
        (403, _error("permission_error", "verification_required"), "403 challenge"),
        (403, _error("permission_error", "account_blocked"), "403 block"),
        (429, {}, "429 budget"),
        (200, {"choices": []}, None),
        (403, _error("permission_error", "something_else"), None),
        (503, _error("server_error", "service_unavailable"), None),
        (429, ["not", "a", "dict"], "429 budget"),
    ],
)
def test_refusals_are_named_by_kind(status: int, payload: object, kind: str | None) -> None:
    assert refusal_kind(status, payload) == kind


def test_first_request_goes_at_once_wherever_it_falls_in_the_simulated_month() -> None:
    for scale in (1.0, 60.0, 3600.0):
        pacer = Pacer(scale, max_gap=30.0, now=1000.0)
        assert pacer.delay(when=1_767_225_600.0 + 25 * 86400, now=1000.0) == 0.0


def test_gaps_are_scaled_and_capped() -> None:
    pacer = Pacer(60.0, max_gap=30.0, now=0.0)
    assert pacer.delay(10_000.0, now=0.0) == 0.0
    assert pacer.delay(10_600.0, now=0.0) == pytest.approx(10.0)  # 600 s simulated / 60
    assert pacer.delay(10_600.0 + 86_400.0, now=10.0) == pytest.approx(30.0)  # a day: capped
    uncapped = Pacer(3600.0, max_gap=0.0, now=0.0)
    uncapped.delay(0.0, now=0.0)
    assert uncapped.delay(7200.0, now=0.0) == pytest.approx(2.0)


def test_a_slow_response_does_not_turn_into_a_burst() -> None:
    pacer = Pacer(1.0, max_gap=30.0, now=0.0)
    pacer.delay(0.0, now=0.0)
    assert pacer.delay(5.0, now=100.0) == 0.0  # late already: send now
    assert pacer.delay(10.0, now=100.0) == pytest.approx(4.0)  # then the next gap again


def test_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="DG_TIME_SCALE"):
        Pacer(0.0, max_gap=30.0, now=0.0)
