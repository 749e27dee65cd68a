"""The root of the operator policy document.

The fields' descriptions are the reference documentation (``gateway policy docs``). Checks
that need the whole document (a model section naming an unknown tier, ...) live in
:mod:`gateway.policy.checks`; they run after the field validators, and the loader maps them
to file:line like any other error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from gateway.budgets.sections import Budgets
from gateway.clusters.config import ClustersPolicy
from gateway.detection.config import DetectionPolicy
from gateway.model import FailureMode, Mode
from gateway.notation import Duration, PolicyModel
from gateway.policy.checks import ANY_TIER, check_policy

__all__ = ["ANY_TIER", "DEFER_CHECKS", "Defaults", "FailureMode", "Policy"]

DEFER_CHECKS = "defer_checks"
"""Validation context flag: skip the whole-document checks (the loader runs them itself)."""


class Defaults(PolicyModel):
    """What applies when the request or the caller's identity does not say."""

    tier: str = Field(
        default="free",
        description="Tier of callers whose identity names none (or names a tier this policy "
        "does not define).",
    )
    failure_mode: FailureMode = Field(
        default="open",
        description="When the budget store is unreachable: open admits requests under a "
        "per-process fallback limiter, closed refuses them with 503.",
    )
    max_tokens: int = Field(
        default=1024,
        ge=1,
        description="Completion tokens reserved against token budgets when a request names no "
        "limit of its answer (max_completion_tokens / max_tokens; the Responses API: "
        "max_output_tokens); the difference to the real usage is refunded afterwards.",
    )
    lease_ttl: Duration = Field(
        default=60.0,
        gt=0,
        description="Concurrency slot lease: a slot held by a crashed replica frees itself after "
        "this long; live streams refresh their lease.",
    )


TierBudgets = dict[str, Budgets]


class Policy(PolicyModel):
    """An operator policy: tiers of budgets, per-model, per-route and global budgets, linked-
    account clusters and harvest detection."""

    version: Literal[1] = Field(description="Format version of this document; always 1.")
    mode: Mode = Field(
        default="enforce",
        description="enforce, or shadow for the whole policy: every budget is evaluated and "
        "reported, nothing is refused.",
    )
    defaults: Defaults = Field(
        default_factory=Defaults, description="Default tier, failure mode and reservations."
    )
    tiers: dict[str, Budgets] = Field(
        description="Budgets per tier, charged per account. A tier's mode: shadow makes all "
        "of its callers' budgets report only.",
    )
    models: dict[str, TierBudgets] = Field(
        default_factory=dict,
        description='Per-account budgets for requests whose model matches a glob ("gpt-4*"), '
        'per tier or "*" for every tier without its own entry. Every matching glob applies.',
    )
    routes: dict[str, TierBudgets] = Field(
        default_factory=dict,
        description='Per-account budgets for request paths matching a glob ("/v1/embeddings"), '
        'per tier or "*". Every matching glob applies.',
    )
    global_: dict[str, Budgets] = Field(
        default_factory=dict,
        alias="global",
        description="Budgets shared by ALL callers per model glob, e.g. to protect an upstream "
        "cluster serving one model. Not throttled by detection and not advertised in headers.",
    )
    clusters: ClustersPolicy = Field(
        default_factory=ClustersPolicy,
        description="Linked-account clusters: linking signals, guards and cluster budgets.",
    )
    detection: DetectionPolicy = Field(
        default_factory=DetectionPolicy,
        description="Harvest detection and graduated responses.",
    )

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Policy:
        context: Any = info.context
        if isinstance(context, dict) and context.get(DEFER_CHECKS):
            return self
        issues = check_policy(self.model_dump(by_alias=True))
        if issues:
            raise ValueError("; ".join(issue.render() for issue in issues))
        return self
