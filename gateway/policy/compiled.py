"""One policy version compiled once: what the stages read of the policy, per tier and per
(tier, model, route, cluster size).

The loader builds a :class:`CompiledPolicy` with every :class:`LoadedPolicy`; the stages
read ``loaded.compiled`` and never derive anything from the policy themselves. A reload
swaps the whole object, so nothing here is keyed by version and nothing needs evicting on
a reload.

Per tier (compiled eagerly): the tier's detection policy (overrides applied), whether its
detection levels are enforced, whether the request path computes its callers' novelty
cells, and whether their whole fingerprints are computed after the response.

Per (tier, model, route, cluster size) and per account: the applicable budget templates
and the bound plans depend on request values (a model name, a path, an account), so they
are resolved on first use and remembered in this object's one bounded memo
(:meth:`CompiledPolicy.memo`), which dies with the version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from gateway.budgets.sections import Budgets
from gateway.detection.config import DetectionPolicy
from gateway.memo import BoundedMemo
from gateway.policy.resolve import BudgetTemplate, resolve
from gateway.policy.schema import Policy

T = TypeVar("T")
Prints = Literal["whole", "frame", "none"]
"""What a served request's fingerprint must hold after the response: all of it (detection
reads it), only the template frame (account linking alone reads it), or nothing but the
token estimate."""
MEMO_SIZE = 65536
"""Most remembered templates and bound plans per version; the memo starts over when full."""


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """What one tier's requests need of the policy, beyond their budgets."""

    detection: DetectionPolicy  # the detection policy with the tier's overrides applied
    enforce_levels: bool  # detection levels (and clearance) are checked in the store
    cell: bool  # a novelty budget charges prompts' cells: computed on the request path
    fingerprint: bool  # detection or template links read the whole fingerprint (off the path)
    prints: Prints = "none"  # how much of it: "frame" when only template links read it


class CompiledPolicy:
    """Everything the request path derives from one policy version."""

    __slots__ = ("_cells", "_links", "_memo", "_tiers", "policy", "version")

    def __init__(self, policy: Policy, version: str) -> None:
        self.policy = policy
        self.version = version
        clusters = policy.clusters
        self._cells = any(b.diversity is not None for b in budget_sections(policy))
        self._links = clusters.enabled and "template" in clusters.link_on.soft
        self._tiers = {tier: _tier(policy, tier, self._cells, self._links) for tier in policy.tiers}
        self._memo: BoundedMemo[tuple[Any, ...], Any] = BoundedMemo(MEMO_SIZE)

    def tier(self, tier: str) -> TierPolicy:
        """The compiled tier (``tier`` is an effective tier; another name gets the policy
        without tier overrides, compiled on the spot)."""
        found = self._tiers.get(tier)
        return found if found is not None else _tier(self.policy, tier, self._cells, self._links)

    def needs_cell(self, tier: str | None) -> bool:
        """Must the request path compute a caller's novelty cell: a diversity budget charges
        it. ``tier`` is the caller's own (None or unknown: the default tier's answer)."""
        found = self._tiers.get(tier) if tier is not None else None
        return (found or self._tiers[self.policy.defaults.tier]).cell

    def needs_fingerprint(self, tier: str | None) -> bool:
        """Must a served request's whole fingerprint be computed (after the response):
        detection observes it, or the linker links on its template. ``tier`` as above."""
        found = self._tiers.get(tier) if tier is not None else None
        return (found or self._tiers[self.policy.defaults.tier]).fingerprint

    def fingerprint_need(self, tier: str | None) -> Prints:
        """How much of a served request's fingerprint is computed (see :data:`Prints`).
        A tier not in the policy (or none) gets the whole fingerprint whenever it needs one:
        the detection engine reads such a tier's detection settings its own way."""
        found = self._tiers.get(tier) if tier is not None else None
        if found is not None:
            return found.prints
        return "whole" if self._tiers[self.policy.defaults.tier].fingerprint else "none"

    def templates(
        self,
        tier: str,
        model: str,
        route: str,
        cluster_size: int,
        *,
        shadow: bool,
        soft: bool = False,
    ) -> tuple[BudgetTemplate, ...]:
        """The budgets that apply to a request (see :func:`gateway.policy.resolve.resolve`;
        ``soft``: the cluster is linked by soft evidence only)."""
        return self.memo(
            ("templates", tier, model, route, cluster_size, soft, shadow),
            lambda: resolve(
                self.policy,
                tier=tier,
                model=model,
                route=route,
                cluster_size=cluster_size,
                soft_cluster=soft,
                shadow=shadow,
            ),
        )

    def memo(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """``build()`` once per ``key`` in this version (bounded: starts over when full)."""
        found = self._memo.get(key)  # not get_or_build: a hit here is one dict lookup
        if found is None:
            found = self._memo.put(key, build())
        return found  # type: ignore[no-any-return]


def budget_sections(policy: Policy) -> Iterator[Budgets]:
    """Every budget section of a policy: tiers, models, routes, global and cluster budgets."""
    yield from policy.tiers.values()
    for per_tier in (*policy.models.values(), *policy.routes.values()):
        yield from per_tier.values()
    yield from policy.global_.values()
    yield from policy.clusters.budgets.values()


def _tier(policy: Policy, tier: str, cells: bool, links: bool) -> TierPolicy:
    detection = policy.detection.for_tier(tier)
    return TierPolicy(
        detection=detection,
        enforce_levels=detection.enabled and detection.mode == "enforce",
        cell=cells,
        fingerprint=links or detection.enabled,
        prints="whole" if detection.enabled else "frame" if links else "none",
    )
