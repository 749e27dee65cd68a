"""Refusal wording: a cluster budget's refusal names no organisation (most clusters are
linked accounts, not an organisation) and no other account."""

from __future__ import annotations

import pytest

from gateway.http.refusals import refusal_error
from gateway.model import BudgetSpec, BudgetState, Decision


def _refused(scope: str, algorithm: str = "bucket") -> dict[str, str]:
    spec = BudgetSpec(
        name=f"{scope}:requests",
        scope=scope,  # type: ignore[arg-type]
        unit="requests",
        algorithm=algorithm,  # type: ignore[arg-type]
        key="k",
        limit=10,
        window=60.0,
        rate=10.0,
    )
    state = BudgetState(spec, allowed=False, remaining=0, reset_after=6.0, retry_after=6.0)
    error = refusal_error(Decision(action="refuse", states=(state,), refused_by=state))
    return {"message": error.message, "type": error.type}


@pytest.mark.parametrize("algorithm", ["bucket", "window", "concurrency", "novelty"])
def test_a_cluster_refusal_speaks_of_linked_accounts_not_an_organisation(algorithm: str) -> None:
    found = _refused("cluster", algorithm)
    assert "organi" not in found["message"].lower()
    assert "organi" not in found["type"].lower()
    assert "linked accounts" in found["message"]


def test_an_account_refusal_speaks_of_the_account() -> None:
    assert "your account's" in _refused("account")["message"]
