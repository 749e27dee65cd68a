"""The ``clusters:`` policy section: which signals link accounts and how clusters are budgeted.

An absent section is valid: linking is on with the defaults below and no explicit cluster
budget, so the cluster budget is ``growth.scale(n)`` times the account budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import Field, field_validator

from gateway.budgets.sections import Budgets
from gateway.notation import Duration, PolicyModel

SoftSignal = Literal["ip_prefix", "template", "synchrony"]
SOFT_SIGNALS: tuple[SoftSignal, ...] = ("ip_prefix", "template", "synchrony")
Growth = Literal["sqrt", "linear", "log", "none"]


class LinkOn(PolicyModel):
    """Which signals link accounts."""

    hard: tuple[str, ...] = Field(
        default=("payment_fingerprint", "org_id"),
        description="Identity attributes (JWT claims or key attributes) whose shared value "
        "links accounts at once, e.g. payment_fingerprint, org_id.",
    )
    soft: tuple[SoftSignal, ...] = Field(
        default=("ip_prefix", "template", "synchrony"),
        description="Behavioural signals (ip_prefix, template, synchrony) that link a pair "
        "only when several agree or one repeats over several days.",
    )

    @field_validator("hard")
    @classmethod
    def _hard_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name.strip():
                raise ValueError("a hard link attribute name cannot be empty")
        if len(set(value)) != len(value):
            raise ValueError(f"duplicate hard link attribute in {list(value)}")
        return value

    @field_validator("soft")
    @classmethod
    def _soft_unique(cls, value: tuple[SoftSignal, ...]) -> tuple[SoftSignal, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"duplicate soft signal in {list(value)}")
        return value


class Synchrony(PolicyModel):
    """Two accounts sending requests within the same short window, repeatedly."""

    window: Duration = Field(
        default=2.0, gt=0, description="Width of a synchrony window in seconds ('2s')."
    )
    min_cooccurrences: int = Field(
        default=5,
        ge=1,
        description="Windows the pair must share (within a day) before synchrony counts.",
    )


class ClustersPolicy(PolicyModel):
    """Linked-account clusters: linking signals, guards and cluster budgets."""

    enabled: bool = Field(
        default=True, description="Link accounts into clusters and charge cluster budgets."
    )
    link_on: LinkOn = Field(
        default_factory=LinkOn, description="Hard and soft signals that link accounts."
    )
    soft_min_signals: int = Field(
        default=2,
        ge=1,
        le=len(SOFT_SIGNALS),
        description="Different soft signals that must agree for a pair before it links.",
    )
    soft_repeat_days: int = Field(
        default=3,
        ge=1,
        description="One soft signal seen for a pair on this many distinct days links it.",
    )
    synchrony: Synchrony = Field(
        default_factory=Synchrony, description="Synchrony signal window and threshold."
    )
    hot_value_limit: int = Field(
        default=50,
        ge=2,
        description="A value shared by more accounts than this (a NAT, a popular template, "
        "a shared org) links nobody and is reported.",
    )
    hot_value_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Per-signal overrides of hot_value_limit, e.g. {org_id: 500} for "
        "large organisations.",
    )
    max_size: int = Field(
        default=5000, ge=2, description="Largest cluster; a link that would exceed it is refused."
    )
    soft_max_size: int = Field(
        default=20,
        ge=2,
        description="Largest cluster soft evidence (ip_prefix, template, synchrony) can build: "
        "a soft link that would merge two clusters into more members than this is refused "
        "(hard links still grow clusters up to max_size).",
    )
    growth: Growth = Field(
        default="sqrt",
        description="How the default cluster budget grows with members n: sqrt, linear, "
        "log or none (cluster budget = f(n) x the account budget).",
    )
    scale_explicit: bool = Field(
        default=False,
        description="Whether explicit cluster budgets (budgets:) also grow with f(n).",
    )
    budgets: dict[str, Budgets] = Field(
        default_factory=dict,
        description="Explicit cluster budgets per tier; tiers without one get "
        "growth(n) x the account budget.",
    )
    evidence_ttl: Duration = Field(
        default=30 * 86400.0,
        gt=0,
        description="How long link evidence and value indexes live without being seen again.",
    )
    observation_ttl: Duration = Field(
        default=7 * 86400.0,
        gt=0,
        description="How long soft-signal observations (per-value account sets) are kept.",
    )
    unlink_ttl: Duration = Field(
        default=90 * 86400.0,
        gt=0,
        description="An operator unlink marks the pair 'do not link' for this long.",
    )
    cache_ttl: Duration = Field(
        default=5.0,
        gt=0,
        description="Hot-path cache lifetime of an account's (cluster id, size) in seconds.",
    )
    audit_max: int = Field(
        default=10_000, ge=10, description="Audit log entries kept (oldest dropped)."
    )

    @field_validator("hot_value_limits")
    @classmethod
    def _limits_valid(cls, value: dict[str, int]) -> dict[str, int]:
        for signal, limit in value.items():
            if limit < 2:
                raise ValueError(f"hot_value_limits.{signal} must be >= 2, got {limit}")
        return value

    def hot_limit(self, signal: str) -> int:
        """Accounts that may share one value of ``signal`` before it counts as hot."""
        return self.hot_value_limits.get(signal, self.hot_value_limit)

    def scale(self, n: int) -> float:
        """Growth factor of the cluster budget for ``n`` members (1.0 for a lone account)."""
        n = max(1, n)
        if self.growth == "sqrt":
            return math.sqrt(n)
        if self.growth == "linear":
            return float(n)
        if self.growth == "log":
            return 1.0 + math.log(n)
        return 1.0


PolicyProvider = Callable[[], ClustersPolicy]
"""Returns the current ``clusters:`` section (the policy holder's latest, hot-reloaded)."""


def default_policy() -> ClustersPolicy:
    """The policy used when no provider is given: every default."""
    return ClustersPolicy()
