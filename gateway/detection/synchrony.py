"""Chance-corrected co-activity: unlinked accounts that keep requesting together.

A squad of light accounts with no shared payment, org, network, client stack or wording still
shares its operator's clock: its members fire in the same short windows, wave after wave.
Each unrelated account also meets others by chance, as often as their rates predict: an
account requesting every minute is "near" everyone, a human session meets a few others.
This module counts an account's *episodes* (a request more than ``delta`` after its previous
one: a burst or a steady stream is one episode, however many requests it holds) and, per pair
of accounts, the *meetings* (an episode of one starting within ``delta`` seconds after an
episode of the other) and compares them with the meetings the two
accounts' own rates predict (Poisson). The rate is local: at each episode of one account,
the other's episodes within ``local`` seconds either side, so that accounts that are simply
awake at the same hours (office hours, a time zone) meet as often as chance predicts. An
account whose meetings with at least ``partners`` others are each far above chance
(upper tail below ``alpha``, at least ``min_meetings`` meetings) is *synchronous*.

Synchrony alone is never a verdict (CI jobs on the hour are synchronous too): the batch
passes a floor to an account only when its own stream also agrees (see
:func:`gateway.detection.batch.Batch.score`). The tracker lives in the detection worker, off
the request path, and is bounded: events older than ``horizon`` are forgotten, an account's
meetings with at most ``max_partners`` others are kept, and a look-back inspects at most
``max_lookback`` recent requests of others.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SynchronyPolicy:
    """The tracker's parameters (from ``tuning.synchrony_*``)."""

    delta: float
    local: float
    horizon: float
    min_meetings: int
    alpha: float
    partners: int
    max_partners: int = 256
    max_lookback: int = 256


@dataclass(slots=True)
class _Account:
    first: float
    last: float  # the account's latest request
    times: deque[float] = field(default_factory=deque)  # episode starts
    met: dict[str, deque[float]] = field(default_factory=dict)  # partner -> meetings (both)


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    term = math.exp(-mu)
    below = term
    for i in range(1, k):
        term *= mu / i
        below += term
    return max(0.0, 1.0 - below)


class CoActivity:
    """Meetings of accounts and their chance expectation (one instance per detection worker)."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._recent: deque[tuple[float, str]] = deque()  # every episode start, in order

    def record(self, account: str, now: float, policy: SynchronyPolicy) -> None:
        """One served request of ``account`` at ``now`` (time order, as the batch runs)."""
        self._forget(now - policy.horizon)
        entry = self._accounts.get(account)
        if entry is None:
            entry = self._accounts[account] = _Account(first=now, last=now)
        elif now - entry.last <= policy.delta:
            entry.last = now  # the same episode
            return
        entry.last = now
        seen: set[str] = set()
        for i, (t, other) in enumerate(reversed(self._recent)):
            if now - t > policy.delta or i >= policy.max_lookback:
                break
            if other == account or other in seen:
                continue
            seen.add(other)
            partner = self._accounts.get(other)
            if partner is None:
                continue
            if other in entry.met or len(entry.met) < policy.max_partners:
                entry.met.setdefault(other, deque()).append(now)
                if account in partner.met or len(partner.met) < policy.max_partners:
                    partner.met.setdefault(account, deque()).append(now)
        entry.times.append(now)
        self._recent.append((now, account))

    def synchronous(self, account: str, now: float, policy: SynchronyPolicy) -> int:
        """How many partners ``account`` meets far more often than chance (0: none)."""
        entry = self._accounts.get(account)
        if entry is None:
            return 0
        found = 0
        since = now - policy.horizon
        for other, mine in list(entry.met.items()):
            partner = self._accounts.get(other)
            _trim(mine, since)
            if partner is None or not mine:
                del entry.met[other]
                continue
            meetings = len(mine)
            if meetings < policy.min_meetings:
                continue
            expected = _expected(entry, partner, policy) + _expected(partner, entry, policy)
            if poisson_tail(meetings, expected) < policy.alpha:
                found += 1
                if found >= policy.partners:
                    break
        return found

    def _forget(self, before: float) -> None:
        while self._recent and self._recent[0][0] < before:
            t, account = self._recent.popleft()
            entry = self._accounts.get(account)
            if entry is None:
                continue
            while entry.times and entry.times[0] <= t:
                entry.times.popleft()
            if not entry.times:
                del self._accounts[account]

    def __len__(self) -> int:
        return len(self._accounts)


def _trim(times: deque[float], since: float) -> None:
    while times and times[0] < since:
        times.popleft()


def _expected(a: _Account, b: _Account, policy: SynchronyPolicy) -> float:
    """Meetings found by ``a``'s episodes expected by chance: each finds one of ``b``'s in the
    ``delta`` before it with probability ``min(1, delta * rate)``, ``rate`` being ``b``'s
    episodes within ``local`` either side of it (the episode it met included: conservative).
    Episode starts are at least ``delta`` apart (a start follows a gap longer than ``delta``),
    so a window of ``delta`` holds at most one: the chance is the expected count itself, not
    the Poisson ``1 - exp(-delta * rate)``, which undercounts steady accounts whose gaps hover
    around ``delta`` (an app's customers: every one of them looked synchronous)."""
    theirs = list(b.times)
    since = max(a.first, b.first)
    total = 0.0
    for t in a.times:
        if t < since:
            continue
        near = bisect_right(theirs, t + policy.local) - bisect_left(theirs, t - policy.local)
        total += min(1.0, policy.delta * near / (2 * policy.local))
    return total
