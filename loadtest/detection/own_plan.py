"""Whether a soft-only cluster's refusal harmed an account that kept to its own plan.

In production a soft-only cluster's budget is what its members would have alone (n x the
account budgets, ``policy.resolve``), and each member's own budgets stop it at its plan, so
the pooled budget refuses nobody who keeps to their plan. The kit's account budgets are
generous instead (detection, not budgets, is measured): a member can run over its plan and
drain the pool, and the pool then refuses the others. Neither refusal would happen so in
production. The shipped account budgets run in shadow beside the generous ones
(``policy.own_budgets``); this tracker reads their would-refuse count around each request
and remembers when a cluster last had a member over its plan.

A soft-only cluster's 429 is harm when the refused account was within its own plan and no
member of its cluster was over its plan within :data:`POOL_WINDOW` before.
"""

from __future__ import annotations

from collections.abc import Callable

POOL_WINDOW = 3600.0  # seconds: a drained pool refills within the hour at the shipped rates


class OwnPlan:
    """``refusals``: the running count of the shadow own-plan budgets' would-refuse."""

    def __init__(self, refusals: Callable[[], float]) -> None:
        self._refusals = refusals
        self._before = 0.0
        self._over: dict[str, float] = {}  # cluster id -> last time a member was over plan

    def before(self) -> None:
        """Call just before a request is sent."""
        self._before = self._refusals()

    def after(self, cluster_id: str, now: float) -> bool:
        """Call when its answer is in: whether the account alone was over its plan."""
        over = self._refusals() > self._before
        if over:
            self._over[cluster_id] = now
        return over

    def pool_drained(self, cluster_id: str, now: float) -> bool:
        """A member of ``cluster_id`` ran over its plan within the window."""
        return now - self._over.get(cluster_id, float("-inf")) < POOL_WINDOW
