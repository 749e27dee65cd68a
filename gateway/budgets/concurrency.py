"""Concurrency: at most ``limit`` requests in flight; ``window`` is the lease TTL after
which a slot of a crashed replica expires. Each request holds one slot until it settles
(a release, not a settle.lua row). Script code 2."""

from __future__ import annotations

from gateway.budgets.kind import AddTemplate, BudgetKind, Refusal, number, scaled
from gateway.budgets.sections import Budgets
from gateway.errors import GatewayError, RateLimited
from gateway.model import BudgetSpec, Charge
from gateway.notation import go_duration


class Concurrency(BudgetKind):
    algorithm = "concurrency"
    code = 2

    def templates(
        self, budgets: Budgets, add: AddTemplate, *, source: str, scale: float, lease_ttl: float
    ) -> None:
        if budgets.concurrency is not None:
            slots = budgets.concurrency
            add("concurrency", slots.mode, unit="concurrency", algorithm="concurrency",
                limit=scaled(slots.limit, scale), window=lease_ttl, throttleable=False,
                source=f"{source}.concurrency")  # fmt: skip

    def fixed_charge(self, spec: BudgetSpec) -> Charge | None:
        return Charge(spec, 1)

    def refusal(self, refused: Refusal) -> GatewayError:
        budget = refused.state.budget
        return RateLimited(
            f"Too many requests in flight for {refused.whose} limit of {budget.limit} at once. "
            f"Please try again in {go_duration(refused.retry)}.",
            type=refused.type,
            headers=refused.headers,
        )

    def numbers(self, limit: int, rate: float, window: float) -> tuple[str, str, str]:
        return f"{limit} in flight", "", f"lease {number(window)}s"
