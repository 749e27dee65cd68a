"""Budget templates: one budget of a policy, with its numbers, not yet bound to a store key.

:func:`expand` turns one ``Budgets`` section into templates; ``resolve`` decides which
sections apply to a request. A template becomes a :class:`~gateway.model.BudgetSpec` with
:meth:`BudgetTemplate.bind` once the caller knows the key (see ``gateway.redis.keys``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.budgets.registry import KINDS
from gateway.budgets.sections import Budgets
from gateway.model import Algorithm, BudgetSpec, Mode, Scope, TokenCount, Unit
from gateway.redis.keys import KeyBuilder

DiversityAction = Literal["throttle", "refuse"]


@dataclass(frozen=True, slots=True)
class BudgetTemplate:
    """One applicable budget with its effective numbers and mode.

    ``name`` is stable and readable (``account:requests``, ``model[gpt-4*]:tokens``,
    ``cluster:quota:requests:day``) and is the budget part of its store key. ``source`` is
    the policy path it came from and ``scale`` the cluster growth factor applied to it.
    """

    name: str
    scope: Scope
    unit: Unit
    algorithm: Algorithm
    limit: int
    window: float
    rate: float = 0.0
    mode: Mode = "enforce"
    count: TokenCount = "total"
    repeat_cost: float = 0.0
    action: DiversityAction | None = None
    throttleable: bool = True
    header: bool = True
    selector: str = ""
    kind: str = ""
    source: str = ""
    scale: float = 1.0

    def bind(self, key: str) -> BudgetSpec:
        """The concrete budget for one store ``key``."""
        return BudgetSpec(
            name=self.name,
            scope=self.scope,
            unit=self.unit,
            algorithm=self.algorithm,
            key=key,
            limit=self.limit,
            window=self.window,
            rate=self.rate,
            mode=self.mode,
            throttleable=self.throttleable,
            repeat_cost=self.repeat_cost,
            header=self.header,
            count=self.count,
        )

    def store_key(self, keys: KeyBuilder, *, cluster_id: str, account_id: str) -> str:
        """This budget's key for an account (a solitary account is its own cluster)."""
        if self.scope == "cluster":
            return keys.cluster_budget(cluster_id, self.name)
        if self.scope == "global":
            return keys.global_budget(self.selector, self.kind)
        return keys.account_budget(cluster_id, account_id, self.name)


def expand(
    budgets: Budgets,
    *,
    scope: Scope,
    source: str,
    selector: str = "",
    shadow: bool = False,
    scale: float = 1.0,
    lease_ttl: float = 60.0,
) -> list[BudgetTemplate]:
    """The templates of one section. ``shadow``: a level above already says shadow;
    ``scale`` multiplies every limit and rate (cluster growth); ``lease_ttl`` is the
    concurrency slot lease."""
    prefix = f"{scope}[{selector}]" if selector else scope
    shadow = shadow or budgets.mode == "shadow"
    shared = scope == "global"
    base = BudgetTemplate(
        name="",
        scope=scope,
        unit="requests",
        algorithm="bucket",
        limit=0,
        window=0.0,
        selector=selector,
        throttleable=not shared,
        header=not shared,
        scale=scale,
    )
    out: list[BudgetTemplate] = []

    def add(kind: str, mode: Mode | None, **fields: Any) -> None:
        effective: Mode = "shadow" if shadow or mode == "shadow" else "enforce"
        template = replace(base, name=f"{prefix}:{kind}", kind=kind, mode=effective, **fields)
        out.append(template)

    for kind in KINDS.values():
        kind.templates(budgets, add, source=source, scale=scale, lease_ttl=lease_ttl)
    return out
