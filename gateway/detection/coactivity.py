"""Co-activity state: the accounts' episodes and meetings, shared by every detection worker.

What :mod:`gateway.detection.synchrony` tests (meetings of unlinked accounts against what
their own rates predict) needs the whole population's episodes, so it lives in the detection
state store (``DetectorStateStore.coactivity``: Redis in production, memory in tests and the
evaluation kit), never in one worker's memory: several workers reading a sharded stream each
see only their share of requests.

The rule (both implementations, exactly):

* a request of an account starts an *episode* when it comes more than ``delta`` after the
  account's latest request (the first request too); the latest request time is updated
  atomically and never moves back, so two workers never both start one, and a sighting
  recorded again (a worker's retry, a redelivery) starts nothing;
* an episode start at ``now`` *meets* every other account whose episode started within
  ``[now - delta, now]`` (the most recent ``lookback`` such starts); a meeting is recorded
  on both sides as ``(partner, now)``, so a meeting recorded twice (two workers racing) is
  one meeting;
* episode starts and meetings older than ``horizon`` are forgotten, and an account keeps the
  meetings of at most ``MAX_PARTNERS`` partners: when a meeting with a new partner makes one
  more, the partners with no meeting left in the horizon go, then the weakest (fewest
  meetings, then the oldest latest meeting, then the smallest name) until ``MAX_PARTNERS``
  remain. A chance partner (most of them: met once) gives way to one met again and again,
  which is what synchrony tests (``min_meetings`` with one partner); the state of an
  account is bounded by its partners, not by the population's traffic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

# Per account: the partners whose meetings are kept (see the rule). The kit's --quick numbers
# are those of keeping every partner at 96 and 128; at 64 one squad member was acted on later.
# With far more concurrent accounts (each episode start meets up to ``lookback`` others),
# chance partners crowd squad mates out sooner, as the ``lookback`` bound already does.
MAX_PARTNERS = 128


@dataclass(frozen=True, slots=True)
class EpisodeRequest:
    """One served request of ``account`` at ``now`` (a batch item of ``record_many``)."""

    account: str
    now: float
    delta: float
    horizon: float
    lookback: int = 256


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """An account's episode starts (and, with ``meetings``, its meetings) within
    ``[since, until]``."""

    account: str
    since: float
    until: float
    meetings: bool = True


@dataclass(frozen=True, slots=True)
class History:
    starts: tuple[float, ...]  # episode starts, in time order
    meetings: dict[str, int]  # partner -> meetings


class CoActivityStore(Protocol):
    """Episodes and meetings of accounts (see the module's rule)."""

    async def record_many(self, requests: Sequence[EpisodeRequest]) -> None:
        """Record each request in order (a few round trips, whatever the batch's size)."""
        ...

    async def histories(self, requests: Sequence[HistoryRequest]) -> list[History]:
        """Each account's starts and meetings in its interval (one round trip)."""
        ...


@dataclass(slots=True)
class _Account:
    last: float
    starts: deque[float] = field(default_factory=deque)
    met: dict[str, list[float]] = field(default_factory=dict)  # partner -> meeting times


class MemoryCoActivity:
    """Co-activity in a dict (one process: tests and the evaluation kit)."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._recent: deque[tuple[float, str]] = deque()  # every episode start, in order

    def __len__(self) -> int:
        return len(self._accounts)

    async def record_many(self, requests: Sequence[EpisodeRequest]) -> None:
        for r in requests:
            self._record(r)

    async def histories(self, requests: Sequence[HistoryRequest]) -> list[History]:
        out: list[History] = []
        for r in requests:
            entry = self._accounts.get(r.account)
            if entry is None:
                out.append(History((), {}))
                continue
            starts = tuple(t for t in entry.starts if r.since <= t <= r.until)
            meetings: dict[str, int] = {}
            for partner, times in entry.met.items() if r.meetings else ():
                count = sum(1 for t in times if r.since <= t <= r.until)
                if count:
                    meetings[partner] = count
            out.append(History(starts, meetings))
        return out

    def _record(self, r: EpisodeRequest) -> None:
        self._forget(r.now - r.horizon)
        entry = self._accounts.get(r.account)
        if entry is not None and r.now <= entry.last:
            return  # recorded again, or out of order: nothing changes
        if entry is not None and r.now - entry.last <= r.delta:
            entry.last = r.now  # the same episode
            return
        if entry is None:
            entry = self._accounts[r.account] = _Account(last=r.now)
        entry.last = r.now
        found: list[str] = []
        for t, other in reversed(self._recent):
            if t < r.now - r.delta or len(found) >= r.lookback:
                break
            if other != r.account and t <= r.now:
                found.append(other)
        for other in dict.fromkeys(found):
            partner = self._accounts.get(other)
            if partner is not None:
                _meet(entry, other, r)
                _meet(partner, r.account, r)
        entry.starts.append(r.now)
        self._recent.append((r.now, r.account))

    def _forget(self, before: float) -> None:
        while self._recent and self._recent[0][0] < before:
            t, account = self._recent.popleft()
            entry = self._accounts.get(account)
            if entry is None:
                continue
            while entry.starts and entry.starts[0] <= t:
                entry.starts.popleft()
            stale = all(max(times) < before for times in entry.met.values())
            if not entry.starts and entry.last < before and stale:
                del self._accounts[account]


def _meet(entry: _Account, partner: str, r: EpisodeRequest) -> None:
    cutoff = r.now - r.horizon
    times = [t for t in entry.met.get(partner, ()) if t >= cutoff]
    if r.now not in times:
        times.append(r.now)
    entry.met[partner] = times
    if len(entry.met) <= MAX_PARTNERS:
        return
    for other in list(entry.met):
        kept = [t for t in entry.met[other] if t >= cutoff]
        if kept:
            entry.met[other] = kept
        else:
            del entry.met[other]
    while len(entry.met) > MAX_PARTNERS:
        weakest = min(entry.met, key=lambda p: (len(entry.met[p]), max(entry.met[p]), p))
        del entry.met[weakest]
