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
:func:`gateway.detection.batch.Batch.score`). Episodes and meetings live in the detection
state store (:mod:`gateway.detection.coactivity`, shared by every detection worker), off the
request path, and are bounded: events older than ``horizon`` are forgotten, a look-back
inspects at most ``max_lookback`` recent episode starts of others, and at most
``max_partners`` partners of an account are tested.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.detection.coactivity import (
    CoActivityStore,
    EpisodeRequest,
    History,
    HistoryRequest,
)


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


@dataclass(frozen=True, slots=True)
class SynchronyAsk:
    """Is ``account`` synchronous at ``now`` (its episodes and meetings up to ``now``)?"""

    account: str
    now: float
    policy: SynchronyPolicy


def episode(account: str, now: float, policy: SynchronyPolicy) -> EpisodeRequest:
    """The store's record of one served request of ``account`` at ``now``."""
    return EpisodeRequest(account, now, policy.delta, policy.horizon, policy.max_lookback)


async def synchronous_many(store: CoActivityStore, asks: Sequence[SynchronyAsk]) -> list[int]:
    """Per ask: how many partners the account meets far more often than chance (two round
    trips for the whole list: the accounts' histories, then their candidate partners')."""
    if not asks:
        return []
    windows = [HistoryRequest(a.account, a.now - a.policy.horizon, a.now) for a in asks]
    own = await store.histories(windows)
    wanted: list[HistoryRequest] = []
    for ask, window, history in zip(asks, windows, own, strict=True):
        for other, _ in _candidates(history, ask.policy):
            wanted.append(HistoryRequest(other, window.since, window.until, meetings=False))
    theirs = iter(await store.histories(wanted))
    out: list[int] = []
    for ask, history in zip(asks, own, strict=True):
        found = 0
        for _, meetings in _candidates(history, ask.policy):
            partner = next(theirs)
            if found >= ask.policy.partners:
                continue
            expected = _expected(history.starts, partner.starts, ask.policy)
            expected += _expected(partner.starts, history.starts, ask.policy)
            if poisson_tail(meetings, expected) < ask.policy.alpha:
                found += 1
        out.append(found)
    return out


def _candidates(history: History, policy: SynchronyPolicy) -> list[tuple[str, int]]:
    """Partners met at least ``min_meetings`` times (at most ``max_partners``, most met)."""
    found = [(p, n) for p, n in history.meetings.items() if n >= policy.min_meetings]
    found.sort(key=lambda item: (-item[1], item[0]))
    return found[: policy.max_partners]


def _expected(a: Sequence[float], b: Sequence[float], policy: SynchronyPolicy) -> float:
    """Meetings found by ``a``'s episodes expected by chance: each finds one of ``b``'s in the
    ``delta`` before it with probability ``min(1, delta * rate)``, ``rate`` being ``b``'s
    episodes within ``local`` either side of it (the episode it met included: conservative).
    Episode starts are at least ``delta`` apart (a start follows a gap longer than ``delta``),
    so a window of ``delta`` holds at most one: the chance is the expected count itself, not
    the Poisson ``1 - exp(-delta * rate)``, which undercounts steady accounts whose gaps hover
    around ``delta`` (an app's customers: every one of them looked synchronous)."""
    if not a or not b:
        return 0.0
    since = max(a[0], b[0])  # neither was seen before its first episode in the horizon
    total = 0.0
    for t in a:
        if t < since:
            continue
        near = bisect_right(b, t + policy.local) - bisect_left(b, t - policy.local)
        total += min(1.0, policy.delta * near / (2 * policy.local))
    return total
