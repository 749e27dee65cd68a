"""Token bucket (GCRA): ``requests`` and ``tokens`` sections. ``limit`` is the burst;
``rate`` units refill every ``window`` seconds. Script code 0."""

from __future__ import annotations

from gateway.budgets.arithmetic import emission_interval, throttled_step
from gateway.budgets.kind import (
    AddTemplate,
    Adjustment,
    BudgetKind,
    Refusal,
    number,
    period_label,
    scaled,
)
from gateway.budgets.sections import Budgets
from gateway.errors import GatewayError, RateLimited
from gateway.model import BudgetSpec, BudgetState, Charge
from gateway.notation import go_duration


class TokenBucket(BudgetKind):
    algorithm = "bucket"
    code = 0
    advertised = True

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
