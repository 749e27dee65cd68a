"""Refusals: the client-facing error for a :class:`~gateway.model.Decision` that refuses.

Messages say which limit and when to retry, never which detection signal fired. A refusal by
a cluster budget speaks of "your linked accounts" without naming them (never of an
"organisation": most clusters are not one).
"""

from __future__ import annotations

import math

from gateway.budgets.kind import Refusal
from gateway.budgets.registry import KINDS
from gateway.errors import Forbidden, GatewayError, RateLimited, ServiceUnavailable
from gateway.http.quota_headers import retry_headers
from gateway.model import BudgetState, Decision


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
    kind = KINDS[budget.algorithm]
    return kind.refusal(Refusal(state, whose, _type(state), retry, retry_headers(retry)))
