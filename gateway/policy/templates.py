"""Budget templates: one budget of a policy, with its numbers, not yet bound to a store key.

:func:`expand` turns one ``Budgets`` section into templates; ``resolve`` decides which
sections apply to a request. A template becomes a :class:`~gateway.model.BudgetSpec` with
:meth:`BudgetTemplate.bind` once the caller knows the key (see ``gateway.redis.keys``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.model import Algorithm, BudgetSpec, Mode, Scope, TokenCount, Unit
from gateway.policy.budgets import Budgets
from gateway.redis.keys import KeyBuilder

DiversityAction = Literal["throttle", "refuse"]
_PERIOD_NAMES = {
    1.0: "second",
    60.0: "minute",
    3600.0: "hour",
    86400.0: "day",
    7 * 86400.0: "week",
    30 * 86400.0: "month",
    365 * 86400.0: "year",
}


def period_label(seconds: float) -> str:
    """``86400`` -> ``day``; ``300`` -> ``5m``; used in budget names."""
    if seconds in _PERIOD_NAMES:
        return _PERIOD_NAMES[seconds]
    for size, suffix in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds % size == 0:
            return f"{int(seconds // size)}{suffix}"
    return f"{seconds:g}s"


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


def _scaled(value: int, scale: float) -> int:
    return value if scale == 1.0 else max(1, math.ceil(value * scale - 1e-9))


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

    if budgets.requests is not None:
        bucket = budgets.requests
        add("requests", bucket.mode, limit=_scaled(bucket.capacity, scale),
            rate=bucket.rate.amount * scale, window=bucket.rate.period,
            source=f"{source}.requests")  # fmt: skip
    if budgets.tokens is not None:
        tokens = budgets.tokens
        add("tokens", tokens.mode, unit="tokens", limit=_scaled(tokens.capacity, scale),
            rate=tokens.rate.amount * scale, window=tokens.rate.period, count=tokens.count,
            source=f"{source}.tokens")  # fmt: skip
    for index, quota in enumerate(budgets.quotas):
        add(f"quota:{quota.unit}:{period_label(quota.limit.period)}", quota.mode,
            unit=quota.unit, algorithm="window", limit=_scaled(quota.limit.amount, scale),
            window=quota.limit.period, throttleable=False,
            source=f"{source}.quotas[{index}]")  # fmt: skip
    if budgets.concurrency is not None:
        slots = budgets.concurrency
        add("concurrency", slots.mode, unit="concurrency", algorithm="concurrency",
            limit=_scaled(slots.limit, scale), window=lease_ttl, throttleable=False,
            source=f"{source}.concurrency")  # fmt: skip
    if budgets.diversity is not None:
        novel = budgets.diversity
        add("diversity", novel.mode, unit="diversity", algorithm="novelty",
            limit=_scaled(novel.novel.amount, scale), window=novel.novel.period,
            repeat_cost=novel.repeat_cost, action=novel.action,
            source=f"{source}.diversity")  # fmt: skip
    return out
