"""Co-activity state in Redis (the rule is in :mod:`gateway.detection.coactivity`).

Keys (built by :class:`KeyBuilder`): per account, under its detection tag
``{det:a:<account>}``, ``co:starts`` (ONE string: the last request time, with which
``lua/episode.lua`` decides atomically whether a request starts an episode and which it
never moves back, so a retried sighting starts nothing; then the episode starts, compact, in
order, ``lua/starts.lua``; the last time had a key of its own, ``co:last``, ~120 bytes for 8
of value: still read, and moved in by the next request) and ``co:mates`` (one string of at
most ``MAX_PARTNERS`` records: partner -> its meeting times, ``lua/meet.lua``, which records
meetings and keeps the bound atomically; it replaced ``co:partners``, a hash of the same
that Redis turned into a 12-16 KB hashtable past 128 fields or a 64-byte value, and before
it ``co:met``: nothing reads either any more, they expire within a horizon of an upgrade).
Both are compact (``lua/times.lua``, a prelude of the scripts): varint lengths and counts,
and each time as the bytes of its double that not every time of the key shares. Their
earlier layouts (``co:starts`` a sorted set, ``co:mates`` 2-byte lengths and 8-byte doubles)
are still read, and rewritten compact by the next start or meeting. Per ``delta``-wide time
bucket of the population, ``{detco:<bucket>}`` (a sorted set of ``<account>|<time>`` episode
starts, kept three bucket widths). A batch costs three round trips (last times: one
``episode.lua`` call per account, its requests of the batch in order; population buckets and
starts, one ``starts.lua`` call per start; meetings: one script call per account met, its
meetings of the batch in order) plus nothing when no episode starts; histories one round
trip (a ``GET`` of each account's starts and meetings; starts still a sorted set take one
more). Every step is one command or script on one key (``episode.lua`` and ``starts.lua``:
on the account's two keys, one tag), so the keys may live in any slot.

Memory: a partner costs its name and 2 bytes, a meeting or a start 6 bytes (the times of
2004-2038 share the first 2 bytes of their doubles), 5 while every time of the key falls in
one aligned 2^18-second span, about 3 days (the earlier layouts: a partner 4 bytes, a meeting
8, a start ~40 as a sorted-set member and score; a sorted-set member ``<partner>|<time>``
cost ~50 in a listpack and ~120 in a skiplist), and most partners are met once, so an
account's meetings take about ``MAX_PARTNERS`` x (name + 8) bytes in the common case,
whatever the number of meetings of its squad mates.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

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
        names = ("episode", "meet", "starts")
        scripts = ScriptRegistry("gateway.detection", names, prelude=("times",))
        self._episode, self._meet = scripts["episode"], scripts["meet"]
        self._starts = scripts["starts"]

    def _key(self, account: str, part: str) -> str:
        return self._keys.detection(entity_of_account(account), "co", part)

    def _episode_keys(self, account: str) -> list[str]:
        """``co:starts`` (the last request time, then the starts) and ``co:last`` (where the
        earlier layout kept the last request time; read until moved)."""
        return [self._key(account, "starts"), self._key(account, "last")]

    def _bucket(self, now: float, delta: float) -> str:
        return self._keys.subsystem_entity("detco", str(int(now // delta)))

    @_translated
    async def record_many(self, requests: Sequence[EpisodeRequest]) -> None:
        if not requests:
            return
        started = await self._episodes(requests)
        starting = [r for r, new in zip(requests, started, strict=True) if new]
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
            start = [repr(r.now), repr(r.now - r.horizon), _ttl(r.horizon)]
            calls.append(self._starts.call(2, [*self._episode_keys(r.account), *start]))
        replies = iter(_raise_first(await run_batch(self._redis, calls, (self._starts,))))
        meetings: dict[str, list[Any]] = {}  # per account: its meetings' ARGV, in order
        for r in starting:
            found: list[tuple[float, str]] = []
            for _ in range(2):
                for member in next(replies):
                    name, at = _split(member)
                    found.append((at, name))
            for _ in range(3):  # the writes
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

    async def _episodes(self, requests: Sequence[EpisodeRequest]) -> list[bool]:
        """Per request, in order: does it start an episode? One ``lua/episode.lua`` call per
        account (its requests of the batch in order): an account sends several per batch."""
        by_account: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            by_account.setdefault(r.account, []).append(i)
        calls: list[tuple[Any, ...]] = []
        for account, indexes in by_account.items():
            args: list[Any] = self._episode_keys(account)
            for i in indexes:
                r = requests[i]
                args += [repr(r.now), r.delta, _ttl(r.horizon)]
            calls.append(self._episode.call(2, args))
        replies = _raise_first(await run_batch(self._redis, calls, (self._episode,)))
        started = [False] * len(requests)
        for indexes, flags in zip(by_account.values(), replies, strict=True):
            for i, flag in zip(indexes, flags, strict=True):
                started[i] = bool(int(flag))
        return started

    @_translated
    async def histories(self, requests: Sequence[HistoryRequest]) -> list[History]:
        calls: list[tuple[Any, ...]] = []
        for r in requests:
            calls.append(("GET", self._key(r.account, "starts")))
            if r.meetings:
                calls.append(("GET", self._key(r.account, "mates")))
        replies = iter(await run_batch(self._redis, calls))
        read = [(next(replies), next(replies) if r.meetings else None) for r in requests]
        _raise_first([met for _, met in read])
        earlier = [r for r, (packed, _) in zip(requests, read, strict=True) if _wrong_type(packed)]
        _raise_first([packed for packed, _ in read if not _wrong_type(packed)])
        sets = iter(await self._earlier_starts(earlier))
        out: list[History] = []
        for r, (packed, met) in zip(requests, read, strict=True):
            meetings: dict[str, int] = {}
            for partner, times in unpack_mates(met or b""):
                count = sum(1 for t in times if r.since <= t <= r.until)
                if count:
                    meetings[partner] = count
            began = next(sets) if _wrong_type(packed) else unpack_times(packed or b"")
            starts = tuple(t for t in began if r.since <= t <= r.until)
            out.append(History(starts, meetings))
        return out

    async def _earlier_starts(self, requests: Sequence[HistoryRequest]) -> list[list[float]]:
        """Starts still in the earlier layout (a sorted set; the first start recorded since
        rewrites it compact): one more round trip, only within a horizon of an upgrade."""
        if not requests:
            return []
        calls = [("ZRANGE", self._key(r.account, "starts"), 0, -1) for r in requests]
        replies = _raise_first(await run_batch(self._redis, calls))
        return [sorted(float(text(m)) for m in members) for members in replies]


def _wrong_type(reply: Any) -> bool:
    return isinstance(reply, ResponseError) and str(reply).startswith("WRONGTYPE")


def _meeting(
    meetings: dict[str, list[Any]], account: str, partners: list[str], r: EpisodeRequest
) -> None:
    """``account`` meets ``partners`` at ``r.now``: appended to its ``lua/meet.lua`` ARGV."""
    args = meetings.setdefault(account, [])
    args += [repr(r.now), repr(r.now - r.horizon), _ttl(r.horizon), MAX_PARTNERS, len(partners)]
    args += partners


def unpack_mates(packed: bytes) -> list[tuple[str, tuple[float, ...]]]:
    """The records of a ``co:mates`` string (``lua/meet.lua``): partner, meeting times. The
    compact layout (a header byte ``0xF0 + P``, the P bytes every time's double starts with,
    then per partner: varint name length, name, varint count, the times' other ``8 - P``
    bytes), or the earlier one (``>H`` lengths and counts, 8-byte doubles), still read."""
    if not packed or packed[0] < _COMPACT:
        return _unpack_earlier(packed)
    prefix, width, at = _header(packed)
    out = []
    while at < len(packed):
        size, at = _varint(packed, at)
        name = packed[at : at + size].decode()
        count, at = _varint(packed, at + size)
        times = [_time(prefix, packed[at + i * width : at + (i + 1) * width]) for i in range(count)]
        at += count * width
        out.append((name, tuple(times)))
    return out


def unpack_times(packed: bytes) -> list[float]:
    """A compact list of times (``lua/times.lua``: ``co:starts``, after the last request time
    that ``lua/episode.lua`` keeps first; empty: none)."""
    if packed[:1] == _LAST_MARK:
        packed = packed[9:]
    if not packed:
        return []
    prefix, width, at = _header(packed)
    return [_time(prefix, packed[i : i + width]) for i in range(at, len(packed), width)]


def _header(packed: bytes) -> tuple[bytes, int, int]:
    """A compact string's shared prefix, the width of each time and where its body starts."""
    if not packed or packed[0] < _COMPACT:
        raise ValueError("not a compact co-activity string")
    shared = packed[0] - _COMPACT
    return packed[1 : 1 + shared], 8 - shared, 1 + shared


def _time(prefix: bytes, rest: bytes) -> float:
    (t,) = struct.unpack(">d", prefix + rest)
    return float(t)


_COMPACT = 0xF0  # the compact layout's header byte, plus the shared prefix's length
_LAST_MARK = b"\xee"  # co:starts: this byte and the last request time's double come first


def _varint(packed: bytes, at: int) -> tuple[int, int]:
    """An unsigned varint (7 bits a byte, low first) at ``at``, and the offset after it."""
    value, shift = 0, 0
    while True:
        byte = packed[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _unpack_earlier(packed: bytes) -> list[tuple[str, tuple[float, ...]]]:
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
