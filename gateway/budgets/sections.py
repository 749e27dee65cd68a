"""Budget sections shared by tiers, models, routes, global limits and cluster budgets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.model import Mode, TokenCount
from gateway.notation import (
    RATE_JSON_SCHEMA,
    PolicyModel,
    RateField,
    parse_rate,
    shorthand_json_schema,
)


class BucketBudget(PolicyModel):
    """A token bucket: ``burst`` units at most, refilled at ``rate``."""

    model_config = ConfigDict(json_schema_extra=shorthand_json_schema(RATE_JSON_SCHEMA))

    rate: RateField = Field(description='Refill rate, "N/period" such as "600/minute".')
    burst: int | None = Field(
        default=None,
        description="Bucket capacity (largest burst). Default: the rate's N.",
    )
    mode: Mode | None = Field(
        default=None, description="enforce or shadow; default: inherited from the tier."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, Mapping | BaseModel):
            return value
        return {"rate": value}  # "5/minute"; anything else fails as a rate, not as a mapping

    @field_validator("burst")
    @classmethod
    def _burst_positive(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"must be >= 1, got {value}")
        return value

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else self.rate.amount


class TokenBudget(BucketBudget):
    """A token bucket on LLM tokens."""

    count: TokenCount = Field(
        default="total",
        description="Which tokens count: total (prompt + completion), input or output.",
    )


class Quota(PolicyModel):
    """A fixed-window quota such as 200 requests a day or 50,000,000 tokens a month."""

    model_config = ConfigDict(json_schema_extra=shorthand_json_schema(RATE_JSON_SCHEMA))

    limit: RateField = Field(description='"N/period" such as "1000/day" or "50000000/month".')
    unit: Literal["requests", "tokens"] = Field(
        default="requests", description="What the quota counts."
    )
    mode: Mode | None = Field(default=None, description="enforce or shadow.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, Mapping | BaseModel):
            return value
        parse_rate(value)
        return {"limit": value}


class Concurrency(PolicyModel):
    """Requests in flight at once."""

    model_config = ConfigDict(
        json_schema_extra=shorthand_json_schema({"type": "integer", "minimum": 1})
    )

    limit: int = Field(ge=1, description="Most requests in flight at once.")
    mode: Mode | None = Field(default=None, description="enforce or shadow.")

    @model_validator(mode="before")
    @classmethod
    def _from_int(cls, value: Any) -> Any:
        if isinstance(value, Mapping | BaseModel):
            return value
        return {"limit": value}  # 4; anything else fails as an integer, not as a mapping


class DiversityBudget(PolicyModel):
    """How much of the topic space a caller may cover per window (semantic-diversity budget)."""

    novel: RateField = Field(
        description='Novelty units per window, e.g. "300/day": a new semantic cell costs 1.'
    )
    repeat_cost: float = Field(
        default=0.1, ge=0, le=1, description="Units a request to an already-seen cell costs."
    )
    action: Literal["throttle", "refuse"] = Field(
        default="throttle",
        description="On exhaustion: throttle (429 type diversity until the window turns) "
        "or refuse (same answer, counted as a detection finding).",
    )
    mode: Mode | None = Field(default=None, description="enforce or shadow.")


class Budgets(PolicyModel):
    """The budgets of a tier (and of a model, route, global or cluster section)."""

    requests: BucketBudget | None = Field(
        default=None, description='Token bucket on requests: "5/minute" or {rate, burst}.'
    )
    tokens: TokenBudget | None = Field(
        default=None, description='Token bucket on LLM tokens: "20000/hour" or {rate, burst}.'
    )
    quotas: tuple[Quota, ...] = Field(
        default=(),
        description='Window quotas: ["200/day", {limit: "5000000/month", unit: tokens}].',
    )
    concurrency: Concurrency | None = Field(default=None, description="Requests in flight.")
    diversity: DiversityBudget | None = Field(
        default=None, description="Semantic-diversity (novelty) budget."
    )
    mode: Mode | None = Field(default=None, description="enforce or shadow for this section.")

    @field_validator("quotas")
    @classmethod
    def _one_quota_per_period(cls, quotas: tuple[Quota, ...]) -> tuple[Quota, ...]:
        seen: dict[tuple[str, float], str] = {}
        for quota in quotas:
            slot = (quota.unit, quota.limit.period)
            if slot in seen:
                raise ValueError(
                    f'two quotas on {quota.unit} over the same period ("{seen[slot]}" and '
                    f'"{quota.limit.text}"); keep one'
                )
            seen[slot] = quota.limit.text
        return quotas
