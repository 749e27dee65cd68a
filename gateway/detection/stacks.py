"""Client-stack churn: an account whose client stack changes from request to request.

An honest installation sends one client stack (its SDK or HTTP library and version:
``RequestFeatures.client_stack``; the end user's platform and browser are left out) on every
request; an app upgrading its SDK, or a person with a script and a notebook, shows two or
three. A harvester drawing its SDK and version afresh per request so that no stack links its
accounts shows many: the rotation that hides it from linking is itself the tell. The store
keeps each account's last ``recent`` stacks (memory here, Redis in
:mod:`gateway.detection.stacks_redis`, shared by every detection worker); an account is
*churning* when at least ``min_requests`` of them are known and ``distinct`` or more of them
differ. Requests without stack headers are not counted (no evidence either way).

Churn alone is never a verdict: the batch passes ``stack_churn_level`` to an account only
when its own stream also agrees (single-turn, never-seen asks, as for synchrony).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StackRequest:
    """One request of ``account`` with client stack ``stack`` (a batch item)."""

    account: str
    stack: int
    recent: int  # stacks kept per account
    ttl: float  # an account's stacks are forgotten after this long idle


@dataclass(frozen=True, slots=True)
class StackChurn:
    """After a request: the account's stacks kept and how many of them are distinct."""

    kept: int
    distinct: int

    def churning(self, min_requests: int, distinct: int) -> bool:
        return self.kept >= min_requests and self.distinct >= distinct


class StackStore(Protocol):
    async def record_stacks(self, requests: Sequence[StackRequest]) -> list[StackChurn]:
        """Record each request in order; the churn after each (one round trip)."""
        ...


class MemoryStacks:
    """Recent client stacks per account in a dict (tests and the evaluation kit; the TTL is
    not enforced in process: a kit run is shorter than any sensible TTL)."""

    def __init__(self) -> None:
        self._recent: dict[str, deque[int]] = {}

    async def record_stacks(self, requests: Sequence[StackRequest]) -> list[StackChurn]:
        out: list[StackChurn] = []
        for r in requests:
            kept = self._recent.get(r.account)
            if kept is None or kept.maxlen != r.recent:
                kept = self._recent[r.account] = deque(kept or (), maxlen=r.recent)
            kept.appendleft(r.stack)
            out.append(StackChurn(len(kept), len(set(kept))))
        return out
