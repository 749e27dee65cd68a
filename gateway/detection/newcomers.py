"""Newcomer cohorts: light throw-away accounts seen as a population.

A drip of throw-away accounts (each under 20 requests, its own address, stack and wording,
no shared payment or org) is below every per-account threshold: each member is gone before
its own evidence counts. What the members share is when and how they start: many accounts
first seen close together whose early streams look alike. A newcomer *joins a cohort* when

- the population has been on record for ``warmup`` (when detection starts, everyone is new),
- its first request on record is at most ``age`` old (the record outlives idle detector state:
  ``known_ttl`` after its last request),
- its own stream agrees: ``min_requests`` or more requests, single-turn and never-seen shares
  at or above ``min_single`` / ``min_novel``, and the request asks for a long answer
  (``max_tokens >= min_output``; a harvest-value signal that does not depend on wording).

Its cohort is its *cell* (tier and pace: machine-paced jobs, people asking one thing after
another, and slow servers relaying their end users' questions are separate populations) and
the ``span``-wide bucket of its first request; members of this and the previous bucket count
together. A cohort of ``cohort`` or more passes ``level`` to
each member that joins it, one by one, while the member is new: an account whose own stream
does not agree (follow-ups, repeats, short answers) is never a member, whatever its cohort.

A member is floored only on a join that grows its cohort's union (``new_asks``): a join
brings the member's latest ask, and passes the level on only when no join of the cohort's
bucket brought that ask before. Throw-away accounts take their own tasks, so each of their
joins is new; a workshop's students who sign up in the same hour and each run the lab's same
task set repeat the asks of whoever ran them first (a union-coverage rule on the whole cohort
would be swayed by whoever else signs up in the same hours: a member's own joins decide).

Cost per batch: one round trip to read and refresh the accounts' records, and one to join
the few that qualify (:mod:`gateway.detection.newcomers_redis`); nothing scales with the
population.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.detection.newcomer_policy import Newcomers
from gateway.detection.types import EntityState


@dataclass(frozen=True, slots=True)
class Arrival:
    """An account's request at ``now`` (a batch item): refresh its record, read its first."""

    account: str
    now: float
    known_ttl: float


@dataclass(frozen=True, slots=True)
class Join:
    """``account`` joins the cohort of ``cell`` in time bucket ``bucket`` (width ``span``),
    bringing ``ask`` (its latest request's exact-prompt hash)."""

    account: str
    cell: str
    bucket: int
    span: float
    ask: int = 0


class NewcomerStore(Protocol):
    async def arrive_many(self, arrivals: Sequence[Arrival]) -> tuple[float, list[float]]:
        """Record each arrival; the population's first record (its epoch) and, per arrival,
        the account's first request on record (one round trip)."""
        ...

    async def join_many(self, joins: Sequence[Join]) -> list[tuple[int, bool]]:
        """Add each account (and its ask) to its cohort bucket; per join, the distinct members
        of that bucket and the previous one, and whether its ask is new to the bucket (one
        round trip)."""
        ...


def join_of(
    account: str,
    state: EntityState,
    max_tokens: int | None,
    tier: str | None,
    now: float,
    first: float,
    epoch: float,
    policy: Newcomers,
    ask: int = 0,
) -> Join | None:
    """The cohort ``account`` joins after this request, or None (see the module text)."""
    if first < epoch + policy.warmup or now - first > policy.age:
        return None
    if (
        state.requests < policy.min_requests
        or (max_tokens or 0) < policy.min_output
        or state.share("single") < policy.min_single
        or state.share("nov_exact") < policy.min_novel
    ):
        return None
    gap = state.iat_mean
    pace = "machine" if gap < policy.human_gap else "human" if gap < policy.slow_gap else "slow"
    cell = f"{tier or '-'}:{pace}"
    return Join(account, cell, math.floor(first / policy.span), policy.span, ask)


class MemoryNewcomers:
    """Records and cohorts in dicts (tests and the evaluation kit). Records are not expired
    in process (a kit run is shorter than ``known_ttl``); buckets older than three spans
    before the newest are dropped."""

    def __init__(self) -> None:
        self._first: dict[str, float] = {}
        self._epoch: float | None = None
        self._buckets: dict[tuple[str, int], set[str]] = {}
        self._asks: dict[tuple[str, int], set[int]] = {}

    async def arrive_many(self, arrivals: Sequence[Arrival]) -> tuple[float, list[float]]:
        out: list[float] = []
        for a in arrivals:
            if self._epoch is None:
                self._epoch = a.now
            out.append(self._first.setdefault(a.account, a.now))
        return (self._epoch if self._epoch is not None else 0.0), out

    async def join_many(self, joins: Sequence[Join]) -> list[tuple[int, bool]]:
        out: list[tuple[int, bool]] = []
        for j in joins:
            here, before = (j.cell, j.bucket), (j.cell, j.bucket - 1)
            self._buckets.setdefault(here, set()).add(j.account)
            asks = self._asks.setdefault(here, set())
            new = j.ask not in asks
            asks.add(j.ask)
            for key in [k for k in self._buckets if k[0] == j.cell and k[1] < j.bucket - 3]:
                del self._buckets[key], self._asks[key]
            out.append((len(self._buckets[here]) + len(self._buckets.get(before, ())), new))
        return out


async def cohorts(
    store: NewcomerStore,
    last: dict[str, tuple[float, int | None, str | None, EntityState, Newcomers, int]],
) -> dict[str, int]:
    """Per account of a batch (``last``: its last sighting's time, ``max_tokens`` and tier,
    its state after the batch, its tier's section, its exact-prompt hash): record its
    arrival, and when it joins a cohort with an ask new to it (see ``new_asks``), the
    cohort's size (accounts of tiers with cohorts off are left out)."""
    on = {a: v for a, v in last.items() if v[4].level != "none"}
    if not on:
        return {}
    arrivals = [Arrival(a, v[0], v[4].known_ttl) for a, v in on.items()]
    epoch, firsts = await store.arrive_many(arrivals)
    joins = [
        (j, policy)
        for (a, (now, max_tokens, tier, state, policy, ask)), first in zip(
            on.items(), firsts, strict=True
        )
        if (j := join_of(a, state, max_tokens, tier, now, first, epoch, policy, ask)) is not None
    ]
    found = await store.join_many([j for j, _ in joins]) if joins else []
    return {
        j.account: n
        for (j, policy), (n, new) in zip(joins, found, strict=True)
        if new or not policy.new_asks
    }
