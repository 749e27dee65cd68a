"""A soft-only cluster's refusal counts as harm only for an account within its own plan
whose cluster had no member over plan within the hour (``loadtest.detection.own_plan``)."""

from __future__ import annotations

from loadtest.detection.own_plan import POOL_WINDOW, OwnPlan


class Count:
    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def test_an_account_over_its_plan_marks_its_cluster_for_the_window() -> None:
    count = Count()
    plan = OwnPlan(count)
    plan.before()
    assert plan.after("c1", 100.0) is False  # within plan
    assert not plan.pool_drained("c1", 100.0)
    plan.before()
    count.value += 1  # this request's own budgets would have refused it
    assert plan.after("c1", 200.0) is True
    assert plan.pool_drained("c1", 200.0 + POOL_WINDOW - 1)  # a member drained the pool
    assert not plan.pool_drained("c1", 200.0 + POOL_WINDOW)  # refilled since
    assert not plan.pool_drained("c2", 200.0)  # another cluster: untouched
