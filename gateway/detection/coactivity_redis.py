"""Co-activity state in Redis (the rule is in :mod:`gateway.detection.coactivity`).

Keys (built by :class:`KeyBuilder`): per account, under its detection tag
``{det:a:<account>}``, ``co:last`` (the last request time; ``lua/episode.lua`` decides
atomically whether a request starts an episode, and never moves it back: a retried sighting
starts nothing), ``co:starts`` (a sorted set of episode starts) and ``co:mates`` (one string
of at most ``MAX_PARTNERS`` records: partner -> its meeting times, 8-byte big-endian doubles,
see ``lua/meet.lua``, which records meetings and keeps the bound atomically; it replaced
``co:partners``, a hash of the same that Redis turned into a 12-16 KB hashtable past 128
fields or a 64-byte value, and before it ``co:met``: nothing reads either any more, they
expire within a horizon of an upgrade); per ``delta``-wide time bucket of the population,
``{detco:<bucket>}`` (a sorted set of ``<account>|<time>`` episode starts, kept three bucket
widths). A batch costs three round trips (last times; population buckets and starts;
meetings: one script call per account met, its meetings of the batch in order) plus nothing
when no episode starts. Every step is one command or script on one
key, so the keys may live in any slot.

Memory: a partner costs its name and 4 bytes, a meeting 8 bytes (a sorted-set member
``<partner>|<time>`` cost ~50 in a listpack and ~120 in a skiplist), and most partners are
met once, so an account's meetings take about ``MAX_PARTNERS`` x (name + 12) bytes in the
common case, whatever the number of meetings of its squad mates.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from gateway.detection.coactivity import (
    MAX_PARTNERS,
    EpisodeRequest,
    History,
    HistoryRequest,
)
from gateway.detection.types import entity_of_account
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translating
from gateway.redis.keys import KeyBuilder
from gateway.redis.replies import text
from gateway.redis.scripts import ScriptRegistry

_translated = translating("co-activity state")


def _raise_first(replies: list[Any]) -> list[Any]:
    failure = first_failure(replies, "co-activity state")
    if failure is not None:
        raise failure
    return replies


def _split(member: Any) -> tuple[str, float]:
    name, _, at = text(member).rpartition("|")
    return name, float(at)


class RedisCoActivity:
    """Episodes and meetings of accounts in Redis, shared by every detection worker."""

    def __init__(self, redis: RedisClient, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys
        scripts = ScriptRegistry("gateway.detection", ("episode", "meet"))
        self._episode, self._meet = scripts["episode"], scripts["meet"]

    def _key(self, account: str, part: str) -> str:
        return self._keys.detection(entity_of_account(account), "co", part)

    def _bucket(self, now: float, delta: float) -> str:
        return self._keys.subsystem_entity("detco", str(int(now // delta)))

    @_translated
    async def record_many(self, requests: Sequence[EpisodeRequest]) -> None:
        if not requests:
            return
        swaps = [
            self._episode.call(
                1, [self._key(r.account, "last"), repr(r.now), r.delta, _ttl(r.horizon)]
            )
            for r in requests
        ]
        started = _raise_first(await run_batch(self._redis, swaps, (self._episode,)))
        starting = [r for r, new in zip(requests, started, strict=True) if int(new)]
        if not starting:
            return
        calls: list[tuple[Any, ...]] = []
        for r in starting:
            low, here = r.now - r.delta, self._bucket(r.now, r.delta)
            for bucket in (self._bucket(low, r.delta), here):  # [now - delta, now]: two
                window = ("ZREVRANGEBYSCORE", bucket, repr(r.now), repr(low))
                calls.append((*window, "LIMIT", 0, r.lookback + 1))
            calls.append(("ZADD", here, repr(r.now), f"{r.account}|{r.now!r}"))
            calls.append(("EXPIRE", here, _ttl(3 * r.delta)))
            starts = self._key(r.account, "starts")
            calls.append(("ZADD", starts, repr(r.now), repr(r.now)))
            calls.append(("ZREMRANGEBYSCORE", starts, "-inf", f"({r.now - r.horizon!r}"))
            calls.append(("EXPIRE", starts, _ttl(r.horizon)))
        replies = iter(_raise_first(await run_batch(self._redis, calls)))
        meetings: dict[str, list[Any]] = {}  # per account: its meetings' ARGV, in order
        for r in starting:
            found: list[tuple[float, str]] = []
            for _ in range(2):
                for member in next(replies):
                    name, at = _split(member)
                    found.append((at, name))
            for _ in range(5):  # the writes
                next(replies)
            found.sort(reverse=True)
            others = [name for _, name in found if name != r.account][: r.lookback]
            partners = list(dict.fromkeys(others))
            if partners:  # per key, the same order as one meeting at a time
                _meeting(meetings, r.account, partners, r)
                for other in partners:
                    _meeting(meetings, other, [r.account], r)
        if meetings:  # one call per account: its meetings of the batch, in order
            calls = [
                self._meet.call(1, [self._key(account, "mates"), *args])
                for account, args in meetings.items()
            ]
            _raise_first(await run_batch(self._redis, calls, (self._meet,)))

    @_translated
    async def histories(self, requests: Sequence[HistoryRequest]) -> list[History]:
        calls: list[tuple[Any, ...]] = []
        for r in requests:
            span = (repr(r.since), repr(r.until))
            calls.append(("ZRANGEBYSCORE", self._key(r.account, "starts"), *span))
            if r.meetings:
                calls.append(("GET", self._key(r.account, "mates")))
        replies = iter(_raise_first(await run_batch(self._redis, calls)))
        out: list[History] = []
        for r in requests:
            starts, met = next(replies), next(replies) if r.meetings else None
            meetings: dict[str, int] = {}
            for partner, times in unpack_mates(met or b""):
                count = sum(1 for t in times if r.since <= t <= r.until)
                if count:
                    meetings[partner] = count
            out.append(History(tuple(sorted(float(text(s)) for s in starts)), meetings))
        return out


def _meeting(
    meetings: dict[str, list[Any]], account: str, partners: list[str], r: EpisodeRequest
) -> None:
    """``account`` meets ``partners`` at ``r.now``: appended to its ``lua/meet.lua`` ARGV."""
    args = meetings.setdefault(account, [])
    args += [repr(r.now), repr(r.now - r.horizon), _ttl(r.horizon), MAX_PARTNERS, len(partners)]
    args += partners


def unpack_mates(packed: bytes) -> list[tuple[str, tuple[float, ...]]]:
    """The records of a ``co:mates`` string (``lua/meet.lua``): partner, meeting times."""
    out, at = [], 0
    while at < len(packed):
        (size,) = struct.unpack_from(">H", packed, at)
        name = packed[at + 2 : at + 2 + size].decode()
        (count,) = struct.unpack_from(">H", packed, at + 2 + size)
        at += 4 + size
        out.append((name, struct.unpack_from(f">{count}d", packed, at)))
        at += 8 * count
    return out


def _ttl(seconds: float) -> int:
    return max(1, math.ceil(seconds))
