"""Fixed-window quota: ``quotas`` entries. ``limit`` units per ``window`` seconds (``rate``
unused); a refusal is ``insufficient_quota`` until the window turns. Script code 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.budgets.arithmetic import Verdict, window_adjust, window_check, window_index
from gateway.budgets.kind import (
    AddTemplate,
    Adjustment,
    BudgetKind,
    Entries,
    Moment,
    Refusal,
    period_label,
    scaled,
    state_of,
)
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


@dataclass(slots=True)
class Window:
    """The memory store's entry of a window budget (quota or novelty): the window's index,
    the units used in it and (novelty) the cells seen in it."""

    index: int
    used: int
    cells: set[int] = field(default_factory=set)


def commit_window(
    entries: Entries, spec: BudgetSpec, index: int, used: int, cell: int | None = None
) -> float:
    """Store ``used`` units in window ``index`` (and ``cell`` among its cells); the key
    expires when the window ends."""
    win = entries.get(spec.key)
    if win is None or win.index != index:
        win = entries[spec.key] = Window(index, used)
    win.used = used
    if cell is not None:
        win.cells.add(cell)
    return (index + 1) * spec.window


def check_window(
    win: Window | None, now: float, window: float, cost: int, limit: int
) -> tuple[Verdict, int, int]:
    """``window_check`` of an entry (None: never used)."""
    return window_check(
        win.index if win else None, win.used if win else 0, now, window, cost, limit
    )


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

    def local_check(self, entries: Entries, charge: Charge, at: Moment) -> tuple[BudgetState, Any]:
        spec = charge.budget
        verdict, index, used = check_window(
            entries.get(spec.key), at.now, spec.window, charge.cost, spec.limit
        )
        return state_of(spec, verdict), (index, used)

    def local_commit(self, entries: Entries, charge: Charge, at: Moment, pending: Any) -> float:
        return commit_window(entries, charge.budget, *pending)

    def local_settle(self, entries: Entries, spec: BudgetSpec, delta: int, now: float) -> float:
        win = entries.get(spec.key)
        used = window_adjust(
            win.index if win else None, win.used if win else 0, now, spec.window, delta
        )
        index = window_index(now, spec.window)
        entries[spec.key] = Window(index, used)
        return (index + 1) * spec.window

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
