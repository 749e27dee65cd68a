"""Shared building blocks of the policy schema: the strict base model, rates, durations;
and durations written back Go-style (``go_duration``, as OpenAI's x-ratelimit-reset-*
headers and the refusal messages use them).

Every policy model derives from :class:`PolicyModel`: unknown keys are errors and the
parsed policy is frozen. Subsystems (clusters, diversity, detection) define their own
sections with these types and the root schema includes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import limits
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)

# a period of the notation as limits' granularity: (granularity, multiple). limits has no
# week, and its year is 360 days; ours is 365, so both are written in days
_GRANULARITY = {
    "second": ("second", 1),
    "minute": ("minute", 1),
    "hour": ("hour", 1),
    "day": ("day", 1),
    "week": ("day", 7),
    "month": ("month", 1),  # 30 days, as in limits
    "year": ("day", 365),
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+\s*)?(second|minute|hour|day|week|month|year)s?\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

RATE_PATTERN = r"^\s*[0-9]+\s*/\s*([0-9]+\s*)?(second|minute|hour|day|week|month|year)s?\s*$"
"""JSON Schema pattern of a rate (the same language as :func:`parse_rate`)."""
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m|h|d|w)\s*$"
"""JSON Schema pattern of a duration string (the same language as :func:`parse_duration`)."""
RATE_JSON_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": RATE_PATTERN,
    "examples": ["5/minute", "1000/day", "10/5 minutes"],
}
DURATION_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m", "6h"]},
        {"type": "number", "minimum": 0},
    ]
}


def shorthand_json_schema(shorthand: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` hook for models that also accept a scalar shorthand
    (``requests: 5/minute`` for ``requests: {rate: 5/minute}``): the schema becomes
    ``anyOf: [shorthand, object]`` so that editors accept both spellings."""

    def extra(schema: dict[str, Any]) -> None:
        keys = ("type", "properties", "required", "additionalProperties")
        obj = {key: schema.pop(key) for key in keys if key in schema}
        schema["anyOf"] = [dict(shorthand), obj]

    return extra


class PolicyModel(BaseModel):
    """Strict, frozen base: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True, slots=True)
class Rate:
    """``amount`` units per ``period`` seconds, written ``N/period`` (``5/minute``,
    ``1000/day``, ``10/5 minutes``). Periods: second, minute, hour, day, week,
    month (30 days), year (365 days). ``item`` is the same rate as a ``limits`` rate limit
    item, for ``limits``' strategies and storages."""

    amount: int
    period: float
    text: str
    item: limits.RateLimitItem = field(compare=False, repr=False)

    @property
    def per_second(self) -> float:
        return self.amount / self.period

    def __str__(self) -> str:
        return self.text


def parse_rate(value: Any) -> Rate:
    """The notation's grammar and messages are the policy's own (``RATE_PATTERN``); the rate
    itself is parsed by ``limits.parse``."""
    if isinstance(value, Rate):
        return value
    if not isinstance(value, str):
        raise ValueError(f'expected "N/period" such as "5/minute", got {value!r}')
    match = _RATE.match(value)
    if match is None:
        raise ValueError(f'expected "N/period" such as "5/minute", got "{value}"')
    amount = int(match.group(1))
    multiple = int(match.group(2) or 1)
    if amount < 1 or multiple < 1:
        raise ValueError(f'a rate needs a positive amount and period, got "{value}"')
    granularity, days = _GRANULARITY[match.group(3)]
    item = limits.parse(f"{amount}/{multiple * days} {granularity}")
    return Rate(amount=amount, period=float(item.get_expiry()), text=value.strip(), item=item)


def parse_duration(value: Any) -> float:
    """Seconds from ``30s``, ``5m``, ``6h``, ``2d``, ``1w``, ``250ms`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f'expected a duration such as "30s", "5m" or "6h", got {value!r}')
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is not None:
            return float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    got = f'"{value}"' if isinstance(value, str) else repr(value)
    raise ValueError(f'expected a duration such as "30s", "5m" or "6h", got {got}')


def go_duration(seconds: float) -> str:
    """``12ms``, ``1s``, ``6m0s``, ``4m12.172s``, ``23h18m29.144s``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = rest / 1000
    sec_text = f"{secs:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{minutes}m{sec_text}s"
    return f"{sec_text}s"


RateField = Annotated[
    Rate,
    PlainValidator(parse_rate),
    PlainSerializer(lambda r: r.text, return_type=str),
    WithJsonSchema(RATE_JSON_SCHEMA),
]
"""A rate in ``N/period`` notation."""

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(DURATION_JSON_SCHEMA),
]
"""A duration: ``30s``, ``5m``, ``6h``, ``2d`` or seconds."""
