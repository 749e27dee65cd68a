"""Fixed-window quota: ``quotas`` entries. ``limit`` units per ``window`` seconds (``rate``
unused); a refusal is ``insufficient_quota`` until the window turns. Script code 1."""

from __future__ import annotations

from gateway.budgets.kind import AddTemplate, Adjustment, BudgetKind, Refusal, period_label, scaled
from gateway.budgets.sections import Budgets
from gateway.errors import GatewayError, RateLimited
from gateway.model import BudgetSpec, BudgetState, Charge
from gateway.notation import go_duration

_PERIOD_ADJECTIVES = {
    86400.0: "daily",
    3600.0: "hourly",
    60.0: "per-minute",
    604800.0: "weekly",
    2592000.0: "monthly",
    31536000.0: "yearly",
}


class WindowQuota(BudgetKind):
    algorithm = "window"
    code = 1
    advertised = True

    def templates(
        self, budgets: Budgets, add: AddTemplate, *, source: str, scale: float, lease_ttl: float
    ) -> None:
        for index, quota in enumerate(budgets.quotas):
            add(f"quota:{quota.unit}:{period_label(quota.limit.period)}", quota.mode,
                unit=quota.unit, algorithm="window", limit=scaled(quota.limit.amount, scale),
                window=quota.limit.period, throttleable=False,
                source=f"{source}.quotas[{index}]")  # fmt: skip

    def settle_row(self, spec: BudgetSpec, delta: int) -> Adjustment | None:
        return Adjustment(spec.key, self.code, spec.window, delta)

    def undo_row(
        self, charge: Charge, state: BudgetState, throttled: bool, factor: float
    ) -> Adjustment | None:
        return Adjustment(charge.budget.key, self.code, charge.budget.window, -charge.cost)

    def refusal(self, refused: Refusal) -> GatewayError:
        budget = refused.state.budget
        period = _PERIOD_ADJECTIVES.get(budget.window, f"{go_duration(budget.window)}")
        error = RateLimited(
            f"You exceeded {refused.whose} {period} quota of {budget.limit} {budget.unit}. "
            f"It resets in {go_duration(refused.retry)}.",
            type="insufficient_quota",
            code="insufficient_quota",
            headers=refused.headers,
        )
        error.retryable = False
        return error
