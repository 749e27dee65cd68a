"""Novelty (the semantic-diversity budget): ``diversity`` sections. ``limit`` units per
``window`` seconds; a request touching a semantic cell not seen in the window costs 1 unit,
a repeat costs ``repeat_cost``. Without a prompt (no cell) the budget does not apply.
Script code 3: the repeat cost (milli-units) is passed as the cost, the cell as the cell."""

from __future__ import annotations

from typing import Any

from gateway.budgets.arithmetic import MILLI, novelty_cost, window_index
from gateway.budgets.kind import (
    AddTemplate,
    Adjustment,
    BudgetKind,
    Entries,
    Moment,
    Refusal,
    scaled,
    state_of,
)
from gateway.budgets.sections import Budgets
from gateway.budgets.window import check_window, commit_window
from gateway.errors import GatewayError, RateLimited
from gateway.model import BudgetSpec, BudgetState, Charge
from gateway.notation import go_duration


class Novelty(BudgetKind):
    algorithm = "novelty"
    code = 3
    per_prompt = True

    def templates(
        self, budgets: Budgets, add: AddTemplate, *, source: str, scale: float, lease_ttl: float
    ) -> None:
        if budgets.diversity is not None:
            novel = budgets.diversity
            add("diversity", novel.mode, unit="diversity", algorithm="novelty",
                limit=scaled(novel.novel.amount, scale), window=novel.novel.period,
                repeat_cost=novel.repeat_cost, action=novel.action,
                source=f"{source}.diversity")  # fmt: skip

    def fixed_charge(self, spec: BudgetSpec) -> Charge | None:
        return None

    def charge(
        self, spec: BudgetSpec, prompt_tokens: int, completion: int, cell: int | None
    ) -> Charge | None:
        return None if cell is None else Charge(spec, 1, cell)

    def static_args(self, spec: BudgetSpec) -> str:
        return f"{super().static_args(spec)}{novelty_cost(False, spec.repeat_cost)},"

    def charge_args(self, static: str, charge: Charge) -> str:
        return f"{static}{-1 if charge.cell is None else charge.cell}"

    def undo_row(
        self, charge: Charge, state: BudgetState, throttled: bool, factor: float
    ) -> Adjustment | None:
        spec = charge.budget
        milli = novelty_cost(state.novel, spec.repeat_cost)
        cell = charge.cell if state.novel and charge.cell is not None else -1
        return Adjustment(spec.key, self.code, spec.window, -milli, cell)

    # the memory store: a window entry whose cells are the window's topics; the fallback
    # keeps no cells (every request counts as novel: one unit)
    def local_check(self, entries: Entries, charge: Charge, at: Moment) -> tuple[BudgetState, Any]:
        spec = charge.budget
        win = entries.get(spec.key)
        index = window_index(at.now, spec.window)
        novel: bool | None = None
        if charge.cell is not None:
            novel = not (win is not None and win.index == index and charge.cell in win.cells)
        cost = novelty_cost(novel, spec.repeat_cost)
        verdict, index, used = check_window(win, at.now, spec.window, cost, spec.limit * MILLI)
        verdict = verdict._replace(remaining=verdict.remaining // MILLI)
        return state_of(spec, verdict, novel), (index, used)

    def local_commit(self, entries: Entries, charge: Charge, at: Moment, pending: Any) -> float:
        index, used = pending
        return commit_window(entries, charge.budget, index, used, charge.cell)

    def fallback_cost(self, charge: Charge, throttled: bool, factor: float) -> int:
        return 1

    def refusal(self, refused: Refusal) -> GatewayError:
        budget = refused.state.budget
        error = RateLimited(
            f"You reached {refused.whose} limit on how many different topics can be explored "
            f"({budget.limit} per {go_duration(budget.window)}; returning to a topic costs "
            f"less than a new one). It resets in {go_duration(refused.retry)}.",
            type=refused.type,
            headers=refused.headers,
        )
        error.retryable = False
        return error
