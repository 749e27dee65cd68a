"""Which budgets apply to a request: pure functions of the policy and the request.

Order of the result: account (the tier), model sections, route sections, the cluster, and
the global budgets shared by all callers. Every matching model / route / global glob
applies (each with its own budget); inside a model or route entry, the caller's tier
wins over ``"*"``.

Effective mode: shadow anywhere wins — the global override (settings), the policy's
``mode``, the tier's ``mode``, the section's ``mode`` or the budget's own ``mode``.

Cluster budgets (``clusters.budgets.<tier>`` or ``"*"``) apply whenever clustering is
enabled, scaled by ``clusters.growth`` (f(n)) when ``clusters.scale_explicit`` is set. Without
an explicit entry, a cluster of n > 1 members gets f(n) x the account budgets
(``growth: sqrt`` by default): splitting into more accounts buys little. A cluster linked by
soft evidence only (``soft_cluster``: shared network, template or timing; no payment, org,
device or operator link) gets n x instead: never less than its members would have alone
(detection acts on such a cluster through its levels when it has evidence beyond the links).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from gateway.policy.budgets import Budgets
from gateway.policy.checks import ANY_TIER
from gateway.policy.document import dotted
from gateway.policy.schema import Policy
from gateway.policy.templates import BudgetTemplate, expand

__all__ = ["BudgetTemplate", "effective_tier", "matching", "resolve"]


def effective_tier(policy: Policy, tier: str | None) -> str:
    """The caller's tier when the policy defines it, else the default tier."""
    if tier is not None and tier in policy.tiers:
        return tier
    return policy.defaults.tier


def matching(globs: Iterable[str], value: str) -> list[str]:
    """The globs (in policy order) that match ``value`` (case-sensitive fnmatch)."""
    return [glob for glob in globs if fnmatchcase(value, glob)]


def _per_tier(entry: Mapping[str, Budgets], tier: str) -> tuple[str, Budgets] | None:
    if tier in entry:
        return tier, entry[tier]
    if ANY_TIER in entry:
        return ANY_TIER, entry[ANY_TIER]
    return None


def _source(*loc: str) -> str:
    return dotted(loc)


def _cluster(
    policy: Policy, tier: str, cluster_size: int, shadow: bool, lease_ttl: float, soft: bool
) -> list[BudgetTemplate]:
    clusters = policy.clusters
    if not clusters.enabled:
        return []
    # soft links alone: the members' budgets as if each were alone (n x, not f(n) x)
    growth = float(max(1, cluster_size)) if soft else clusters.scale(cluster_size)
    explicit = _per_tier(clusters.budgets, tier)
    if explicit is not None:
        key, budgets = explicit
        scale = growth if clusters.scale_explicit or soft else 1.0
        return expand(
            budgets,
            scope="cluster",
            source=_source("clusters", "budgets", key),
            shadow=shadow,
            scale=scale,
            lease_ttl=lease_ttl,
        )
    if cluster_size <= 1:
        return []
    return expand(
        policy.tiers[tier],
        scope="cluster",
        source=_source("tiers", tier),
        shadow=shadow,
        scale=growth,
        lease_ttl=lease_ttl,
    )


def resolve(
    policy: Policy,
    *,
    tier: str | None = None,
    model: str | None = None,
    route: str | None = None,
    cluster_size: int = 1,
    soft_cluster: bool = False,
    shadow: bool = False,
) -> tuple[BudgetTemplate, ...]:
    """Every budget that applies to a request of a ``tier`` caller (None or unknown: the
    default tier) for ``model`` on ``route``, in a cluster of ``cluster_size`` accounts
    (``soft_cluster``: linked by soft evidence only). ``shadow=True`` is the global
    override: everything reports, nothing refuses."""
    tier = effective_tier(policy, tier)
    account = policy.tiers[tier]
    lease = policy.defaults.lease_ttl
    shadow = shadow or policy.mode == "shadow" or account.mode == "shadow"
    out = expand(
        account, scope="account", source=_source("tiers", tier), shadow=shadow, lease_ttl=lease
    )
    if model:
        for glob in matching(policy.models, model):
            found = _per_tier(policy.models[glob], tier)
            if found is not None:
                out += expand(
                    found[1],
                    scope="model",
                    selector=glob,
                    shadow=shadow,
                    source=_source("models", glob, found[0]),
                    lease_ttl=lease,
                )
    if route:
        for glob in matching(policy.routes, route):
            found = _per_tier(policy.routes[glob], tier)
            if found is not None:
                out += expand(
                    found[1],
                    scope="route",
                    selector=glob,
                    shadow=shadow,
                    source=_source("routes", glob, found[0]),
                    lease_ttl=lease,
                )
    out += _cluster(policy, tier, cluster_size, shadow, lease, soft_cluster)
    if model:
        for glob in matching(policy.global_, model):
            out += expand(
                policy.global_[glob],
                scope="global",
                selector=glob,
                shadow=shadow,
                source=_source("global", glob),
                lease_ttl=lease,
            )
    return tuple(out)
