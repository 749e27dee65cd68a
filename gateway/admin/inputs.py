"""Validated inputs of the admin API: every bad value is a 400 naming the parameter."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from gateway.errors import InvalidRequest

MAX_TTL = 365 * 86400.0  # a pinned level lasts at most a year
MAX_AUDIT = 1000


def bad(message: str, param: str | None, code: str = "invalid_request") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object."""
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad("the body is not valid JSON", None, "invalid_json") from None
    if not isinstance(body, dict):
        raise bad("the body must be a JSON object", None, "invalid_json")
    return body


def text(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A non-empty string field (``None`` when optional and absent; an explicit ``null`` is
    refused like any other non-string, as the OpenAPI document says)."""
    if name not in body and not required:
        return None
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise bad(f"{name} must be a non-empty string", name)
    return value


def reason(body: dict[str, Any]) -> str:
    value = body.get("reason")
    if not isinstance(value, str) or not value:
        raise bad("a reason is required (it is audited)", "reason", "reason_required")
    return value


def ttl(body: dict[str, Any], default: float = 3600.0) -> float:
    """Seconds a pinned level lasts: a number, 0 < ttl <= one year."""
    value = body.get("ttl", default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad("ttl must be a number of seconds", "ttl", "invalid_ttl")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TTL:
        raise bad(
            f"ttl must be between 0 (excluded) and {MAX_TTL:.0f} seconds", "ttl", "invalid_ttl"
        )
    return seconds


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"{name} must be an integer from {low} to {high}", name) from None
    if not low <= value <= high:
        raise bad(f"{name} must be an integer from {low} to {high}", name)
    return value
