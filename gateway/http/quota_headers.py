"""Quota headers, derived from a :class:`~gateway.model.Decision` in this one place.

* IETF draft-ietf-httpapi-ratelimit-headers: ``RateLimit-Policy`` and ``RateLimit``
  (structured field lists). ``tokens`` is not a registered quota unit, so token policies
  carry the vendor parameter ``gw-unit="tokens"``.
* OpenAI's ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``.
* ``Retry-After`` (whole seconds, >= 1) and ``retry-after-ms`` on refusals.

Only enforced budgets are advertised (shadow budgets never show). For each unit the most
restrictive applicable budget is chosen: the least remaining, then the longest reset.
"""

from __future__ import annotations

import math
from functools import lru_cache

from gateway.budgets.registry import KINDS
from gateway.model import Algorithm, BudgetSpec, BudgetState, Decision, Unit
from gateway.notation import go_duration

_ADVERTISED = ("requests", "tokens")


def most_restrictive(states: tuple[BudgetState, ...]) -> dict[str, BudgetState]:
    chosen: dict[str, BudgetState] = {}
    for state in states:
        budget = state.budget
        if budget.mode != "enforce" or not budget.header or budget.unit not in _ADVERTISED:
            continue
        if not KINDS[budget.algorithm].advertised:
            continue
        best = chosen.get(budget.unit)
        if (
            best is None
            or state.remaining < best.remaining
            or (state.remaining == best.remaining and state.reset_after > best.reset_after)
        ):
            chosen[budget.unit] = state
    return chosen


@lru_cache(maxsize=4096)
def _fixed(
    unit: Unit, algorithm: Algorithm, limit: int, window: float, rate: float
) -> tuple[str, str]:
    """A budget's ``RateLimit-Policy`` item and its limit as text, made of the fields they
    depend on: the same few per tier, request after request."""
    spec = BudgetSpec("", "account", unit, algorithm, "", limit, window, rate)
    extra = ';gw-unit="tokens"' if unit == "tokens" else ""
    item = f'"{unit}";q={limit};w={KINDS[algorithm].header_window(spec)}{extra}'
    return item, str(limit)


def quota_headers(decision: Decision) -> dict[str, str]:
    """Headers for every response that went through budgets (streaming included)."""
    chosen = most_restrictive(decision.states)
    if not chosen:
        return {}
    headers: dict[str, str] = {}
    policy_items: list[str] = []
    limit_items: list[str] = []
    for unit in _ADVERTISED:
        state = chosen.get(unit)
        if state is None:
            continue
        budget = state.budget
        remaining = state.remaining if state.remaining > 0 else 0
        reset = state.reset_after if state.reset_after > 0 else 0.0
        item, limit = _fixed(unit, budget.algorithm, budget.limit, budget.window, budget.rate)
        policy_items.append(item)
        limit_items.append(f'"{unit}";r={remaining};t={math.ceil(reset)}')
        headers[f"x-ratelimit-limit-{unit}"] = limit
        headers[f"x-ratelimit-remaining-{unit}"] = str(remaining)
        headers[f"x-ratelimit-reset-{unit}"] = go_duration(reset)
    headers["RateLimit-Policy"] = ", ".join(policy_items)
    headers["RateLimit"] = ", ".join(limit_items)
    return headers


def retry_headers(retry_after: float) -> dict[str, str]:
    """``Retry-After`` in whole seconds (at least 1) and the exact ``retry-after-ms``."""
    if not math.isfinite(retry_after):
        return {}
    return {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "retry-after-ms": f"{max(0.0, retry_after) * 1000:.0f}",
    }
