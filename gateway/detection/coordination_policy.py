"""The ``detection.coordination:`` policy section: how a cluster linked only by soft evidence
(IP prefix, prompt frame, synchrony) can still be acted on as a cluster.

A soft-only cluster's ordinary score (every family) stops at ``detection.soft_cluster_max``:
a crowd of unrelated people or cron jobs covers every topic around the clock by construction.
This section adds a second, separate path that counts only evidence of coordination a crowd
does not produce (see :mod:`gateway.detection.coordination`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from gateway.notation import PolicyModel


def _share(default: float, description: str) -> Any:
    """A field between 0 and 1 (a score, a share of requests, a weight)."""
    return Field(default=default, ge=0, le=1, description=description)


class Coordination(PolicyModel):
    """Coordination evidence of a soft-only cluster: members firing together far above
    chance, members at their limits, one prompt frame fanned out across accounts."""

    max_level: Literal["none", "throttle", "degrade"] = Field(
        default="none",
        description="Highest level a soft-only cluster reaches on coordination evidence "
        "(with a harvest-value signal); none turns the path off. Never challenge or block: "
        "soft evidence can be wrong.",
    )
    min_score: float = _share(
        0.5,
        "Coordination score (0..1) a soft-only cluster needs before the path counts at all.",
    )
    sync_low: float = _share(
        0.3,
        "Member synchrony above chance at which synchrony starts to count: the "
        "share of requests sent within 2 s of another member's, minus the share the cluster's "
        "own request rate explains (a busy crowd is often within 2 s of itself), over what "
        "is left.",
    )
    sync_high: float = _share(0.7, "Synchrony above chance that counts fully.")
    at_limit_low: float = _share(
        0.2,
        "Share of the cluster's requests that hit or nearly hit a budget limit "
        "(members hugging their budgets) at which it starts to count.",
    )
    at_limit_high: float = _share(0.6, "At-limit share that counts fully.")
    fanout_low: float = _share(
        0.5,
        "Share of requests whose prompt frame many accounts send (template "
        "fan-out) at which it starts to count.",
    )
    fanout_high: float = _share(0.9, "Fanned-out share that counts fully.")
    fanout_weight: float = _share(
        0.4,
        "Weight of template fan-out: a popular app's frame fans out too, so alone "
        "it never reaches min_score at the default.",
    )

    @model_validator(mode="after")
    def _ramps(self) -> Coordination:
        for name in ("sync", "at_limit", "fanout"):
            if getattr(self, f"{name}_low") >= getattr(self, f"{name}_high"):
                raise ValueError(f"coordination.{name}_low must be below {name}_high")
        return self
