"""Token bucket (GCRA): ``requests`` and ``tokens`` sections. ``limit`` is the burst;
``rate`` units refill every ``window`` seconds. Script code 0."""

from __future__ import annotations

import math
from typing import Any

from gateway.budgets.arithmetic import (
    bucket_adjust,
    bucket_check,
    emission_interval,
    throttled_step,
)
from gateway.budgets.kind import (
    AddTemplate,
    Adjustment,
    BudgetKind,
    Entries,
    Moment,
    Refusal,
    number,
    period_label,
    scaled,
    state_of,
)
from gateway.budgets.sections import Budgets
from gateway.errors import GatewayError, RateLimited
from gateway.model import BudgetSpec, BudgetState, Charge
from gateway.notation import go_duration


class TokenBucket(BudgetKind):
    algorithm = "bucket"
    code = 0
    advertised = True
    starts_empty = True  # an outage must not hand an unknown account a fresh burst per replica

    def templates(
        self, budgets: Budgets, add: AddTemplate, *, source: str, scale: float, lease_ttl: float
    ) -> None:
        if budgets.requests is not None:
            bucket = budgets.requests
            add("requests", bucket.mode, limit=scaled(bucket.capacity, scale),
                rate=bucket.rate.amount * scale, window=bucket.rate.period,
                source=f"{source}.requests")  # fmt: skip
        if budgets.tokens is not None:
            tokens = budgets.tokens
            add("tokens", tokens.mode, unit="tokens", limit=scaled(tokens.capacity, scale),
                rate=tokens.rate.amount * scale, window=tokens.rate.period, count=tokens.count,
                source=f"{source}.tokens")  # fmt: skip

    def interval(self, spec: BudgetSpec) -> float:
        return emission_interval(spec.window, spec.rate)

    def settle_row(self, spec: BudgetSpec, delta: int) -> Adjustment | None:
        return Adjustment(spec.key, self.code, emission_interval(spec.window, spec.rate), delta)

    def undo_row(
        self, charge: Charge, state: BudgetState, throttled: bool, factor: float
    ) -> Adjustment | None:
        spec = charge.budget
        interval = emission_interval(spec.window, spec.rate)
        step = throttled_step(interval, throttled and spec.throttleable, factor)
        return Adjustment(spec.key, self.code, step, -charge.cost)

    def check(self, spec: BudgetSpec) -> None:
        if spec.rate <= 0:
            raise ValueError(f"budget {spec.name}: a bucket needs rate > 0, got {spec.rate}")

    # the memory store keeps each bucket's theoretical arrival time (TAT), expiring when full
    def local_check(self, entries: Entries, charge: Charge, at: Moment) -> tuple[BudgetState, Any]:
        spec = charge.budget
        interval = emission_interval(spec.window, spec.rate)
        step = throttled_step(interval, at.throttled and spec.throttleable, at.factor)
        verdict, tat = bucket_check(
            entries.get(spec.key), at.now, charge.cost, spec.limit, interval, step
        )
        return state_of(spec, verdict), tat

    def local_commit(self, entries: Entries, charge: Charge, at: Moment, pending: Any) -> float:
        entries[charge.budget.key] = pending
        return float(pending)

    def local_settle(self, entries: Entries, spec: BudgetSpec, delta: int, now: float) -> float:
        interval = emission_interval(spec.window, spec.rate)
        tat = entries[spec.key] = bucket_adjust(entries.get(spec.key), now, delta, interval)
        return tat

    # the fallback: the share of the burst per the time the share takes to refill
    def fallback_seconds(self, spec: BudgetSpec, amount: int, replicas: int) -> float:
        return amount * spec.window * replicas / spec.rate

    def fallback_cost(self, charge: Charge, throttled: bool, factor: float) -> int:
        if throttled and charge.budget.throttleable:
            return math.ceil(charge.cost / factor)
        return charge.cost

    def seed_expiry(
        self, spec: BudgetSpec, period: float, used: int, amount: int, now: float
    ) -> float:
        return period * used / amount  # empty for as long as the bucket takes to refill it

    def seen_now(self, spec: BudgetSpec, remaining: int, at: float, now: float) -> float | None:
        refilled = max(0.0, now - at) * spec.rate / spec.window
        return min(float(spec.limit), remaining + refilled)

    def header_window(self, spec: BudgetSpec) -> int:
        if spec.rate > 0:  # time for an empty bucket to refill completely
            return max(1, round(spec.limit * spec.window / spec.rate))
        return max(1, round(spec.window))

    def refusal(self, refused: Refusal) -> GatewayError:
        budget = refused.state.budget
        rate = f"{budget.rate:g} per {go_duration(budget.window)}, burst {budget.limit}"
        return RateLimited(
            f"Rate limit reached for {refused.whose} {budget.unit} ({rate}). "
            f"Please try again in {go_duration(refused.retry)}.",
            type=refused.type,
            headers=refused.headers,
        )

    def numbers(self, limit: int, rate: float, window: float) -> tuple[str, str, str]:
        return f"burst {limit}", f"{number(rate)}/{period_label(window)}", ""
