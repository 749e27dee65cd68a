"""Which budgets a request gets, with their effective numbers and where each came from.

Used by ``gateway policy explain`` (and usable by the admin API): a table for people and a
JSON document for tools.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gateway.budgets.registry import KINDS
from gateway.budgets.templates import BudgetTemplate
from gateway.policy.loader import LoadedPolicy
from gateway.policy.resolve import effective_tier, resolve
from gateway.redis.keys import KeyBuilder


@dataclass(frozen=True, slots=True)
class Request:
    """The request being explained."""

    tier: str | None = None
    model: str | None = None
    route: str | None = None
    account: str | None = None
    cluster: str | None = None  # cluster id; default: the account (a solitary account)
    cluster_size: int = 1
    shadow: bool = False


def numbers(template: BudgetTemplate) -> tuple[str, str, str]:
    """(limit, refill, window) as people read them."""
    kind = KINDS[template.algorithm]
    return kind.numbers(template.limit, template.rate, template.window)


def _origin(template: BudgetTemplate) -> str:
    if template.scale != 1.0:
        return f"{template.source} x {template.scale:.2f}"
    return template.source


@dataclass(frozen=True, slots=True)
class Explanation:
    """The budgets of one request under one policy."""

    loaded: LoadedPolicy
    request: Request
    tier: str
    templates: tuple[BudgetTemplate, ...]
    keys: tuple[str | None, ...]

    def as_dict(self) -> dict[str, Any]:
        policy = self.loaded.policy
        budgets = []
        for template, key in zip(self.templates, self.keys, strict=True):
            row = asdict(template)
            row["from"] = _origin(template)
            if key is not None:
                row["key"] = key
            budgets.append(row)
        return {
            "version": self.loaded.version,
            "sources": list(self.loaded.sources),
            "tier": self.tier,
            "tier_requested": self.request.tier,
            "model": self.request.model,
            "route": self.request.route,
            "cluster_size": self.request.cluster_size,
            "cluster_growth": policy.clusters.growth,
            "failure_mode": policy.defaults.failure_mode,
            "max_tokens": policy.defaults.max_tokens,
            "budgets": budgets,
        }

    def render(self) -> str:
        """A plain-text table."""
        policy, request = self.loaded.policy, self.request
        if request.tier is None:
            tier = f"{self.tier} (the default tier)"
        elif request.tier != self.tier:
            tier = f"{self.tier} (tier {request.tier!r} is not defined: the default tier)"
        else:
            tier = self.tier
        lines = [
            f"policy {', '.join(self.loaded.sources)} (version {self.loaded.version})",
            f"tier {tier}; model {request.model or '-'}; route {request.route or '-'}; "
            f"cluster of {request.cluster_size} (growth {policy.clusters.growth})",
            f"failure mode {policy.defaults.failure_mode}; completion reservation "
            f"{policy.defaults.max_tokens} tokens when a request names no max_tokens",
            "",
        ]
        header = ("budget", "mode", "algorithm", "limit", "refill", "window", "from")
        rows = [header]
        for template in self.templates:
            limit, refill, window = numbers(template)
            rows.append(
                (
                    template.name,
                    template.mode,
                    template.algorithm,
                    limit,
                    refill,
                    window,
                    _origin(template),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append("  ".join(cells).rstrip())
        if not self.templates:
            lines.append("(no budgets apply)")
        keyed = [(t.name, k) for t, k in zip(self.templates, self.keys, strict=True) if k]
        if keyed:
            lines += ["", "store keys:", *(f"  {name}: {key}" for name, key in keyed)]
        return "\n".join(lines) + "\n"


def explain(loaded: LoadedPolicy, request: Request, keys: KeyBuilder | None = None) -> Explanation:
    """Resolve ``request`` under ``loaded``; store keys are shown when an account is given."""
    policy = loaded.policy
    tier = effective_tier(policy, request.tier)
    templates = resolve(
        policy,
        tier=tier,
        model=request.model,
        route=request.route,
        cluster_size=request.cluster_size,
        shadow=request.shadow,
    )
    builder = keys or KeyBuilder()
    account = request.account
    cluster = request.cluster or account
    bound = tuple(
        t.store_key(builder, cluster_id=cluster, account_id=account)
        if account is not None and cluster is not None
        else None
        for t in templates
    )
    return Explanation(loaded, request, tier, templates, bound)
