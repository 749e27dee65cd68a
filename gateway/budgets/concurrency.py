"""Concurrency: at most ``limit`` requests in flight; ``window`` is the lease TTL after
which a slot of a crashed replica expires. Each request holds one slot until it settles
(a release, not a settle.lua row). Script code 2."""

from __future__ import annotations

from typing import Any

from gateway.budgets.arithmetic import INF, Verdict, concurrency_check
from gateway.budgets.kind import (
    AddTemplate,
    BudgetKind,
    Entries,
    Moment,
    Refusal,
    number,
    scaled,
    state_of,
)
from gateway.budgets.sections import Budgets
from gateway.errors import GatewayError, RateLimited
from gateway.model import BudgetSpec, BudgetState, Charge
from gateway.notation import go_duration


class Concurrency(BudgetKind):
    algorithm = "concurrency"
    code = 2
    holds_slots = True
    seeded = False  # the fallback counts slots from zero (leases are not refreshed there)

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

    # the memory store: the leases by request id, the key expiring with the latest
    def local_check(self, entries: Entries, charge: Charge, at: Moment) -> tuple[BudgetState, Any]:
        spec = charge.budget
        leases, now = entries.get(spec.key, {}), at.now
        live = [when for when in leases.values() if when > now]
        present = leases.get(at.request_id, now) > now
        if charge.cost > spec.limit:
            verdict = Verdict(False, 0, 0.0, INF)
        else:
            verdict = concurrency_check(live, present, now, spec.limit, spec.window)
        return state_of(spec, verdict), None

    def local_commit(self, entries: Entries, charge: Charge, at: Moment, pending: Any) -> float:
        leases: dict[str, float] = entries.setdefault(charge.budget.key, {})
        for member in [m for m, when in leases.items() if when <= at.now]:
            del leases[member]
        leases[at.request_id] = at.now + charge.budget.window
        return max(leases.values())

    def local_release(self, entries: Entries, spec: BudgetSpec, request_id: str) -> None:
        entries.get(spec.key, {}).pop(request_id, None)

    def fallback_cost(self, charge: Charge, throttled: bool, factor: float) -> int:
        return 1

    def seen_now(self, spec: BudgetSpec, remaining: int, at: float, now: float) -> float | None:
        return None

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
