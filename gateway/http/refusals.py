"""Refusals: the client-facing error for a :class:`~gateway.model.Decision` that refuses.

Messages say which limit and when to retry, never which detection signal fired. A refusal by
a cluster budget speaks of "your linked accounts" without naming them (never of an
"organisation": most clusters are not one).
"""

from __future__ import annotations

import math

from gateway.errors import Forbidden, GatewayError, RateLimited, ServiceUnavailable
from gateway.http.durations import go_duration
from gateway.http.headers import retry_headers
from gateway.model import BudgetState, Decision

_PERIOD_NAMES = {
    86400.0: "daily",
    3600.0: "hourly",
    60.0: "per-minute",
    604800.0: "weekly",
    2592000.0: "monthly",
    31536000.0: "yearly",
}


def _whose(state: BudgetState) -> str:
    scope = state.budget.scope
    if scope == "cluster":
        return "your linked accounts' shared"
    if scope == "global":
        return "this model's shared"
    return "your account's"


def _type(state: BudgetState) -> str:
    unit = state.budget.unit
    return f"linked_accounts_{unit}" if state.budget.scope == "cluster" else unit


def _rate_text(state: BudgetState) -> str:
    budget = state.budget
    return f"{budget.rate:g} per {go_duration(budget.window)}, burst {budget.limit}"


def refusal_error(decision: Decision) -> GatewayError:
    """The error for a refused decision. Pure: derived from the decision alone."""
    state = decision.refused_by
    if decision.action == "unavailable":
        return ServiceUnavailable(
            "The rate-limit store is unavailable and this gateway fails closed. "
            "Please try again shortly.",
            headers=retry_headers(1.0),
        )
    if decision.action == "block":
        return Forbidden(
            "This account has been blocked. Contact support if you believe this is a mistake.",
            code="account_blocked",
        )
    if state is None:
        return RateLimited(
            "Rate limit reached. Please try again shortly.", headers=retry_headers(1.0)
        )
    budget = state.budget
    whose = _whose(state)
    retry = state.retry_after
    if not math.isfinite(retry):
        error = RateLimited(
            f"Request too large for {whose} {budget.unit} limit: it allows at most "
            f"{budget.limit} {budget.unit} at once. Reduce the prompt or max_tokens.",
            type=_type(state),
        )
        error.retryable = False
        return error
    when = f"Please try again in {go_duration(retry)}."
    headers = retry_headers(retry)
    if budget.algorithm == "window":
        period = _PERIOD_NAMES.get(budget.window, f"{go_duration(budget.window)}")
        error = RateLimited(
            f"You exceeded {whose} {period} quota of {budget.limit} {budget.unit}. "
            f"It resets in {go_duration(retry)}.",
            type="insufficient_quota",
            code="insufficient_quota",
            headers=headers,
        )
        error.retryable = False
        return error
    if budget.algorithm == "concurrency":
        return RateLimited(
            f"Too many requests in flight for {whose} limit of {budget.limit} at once. {when}",
            type=_type(state),
            headers=headers,
        )
    if budget.algorithm == "novelty":
        error = RateLimited(
            f"You reached {whose} limit on how many different topics can be explored "
            f"({budget.limit} per {go_duration(budget.window)}; returning to a topic costs "
            f"less than a new one). It resets in {go_duration(retry)}.",
            type=_type(state),
            headers=headers,
        )
        error.retryable = False
        return error
    return RateLimited(
        f"Rate limit reached for {whose} {budget.unit} ({_rate_text(state)}). {when}",
        type=_type(state),
        headers=headers,
    )
