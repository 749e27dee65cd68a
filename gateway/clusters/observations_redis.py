"""The linker's observations in Redis (shared by replicas): two Lua scripts.

The accounts seen with one evidence value, and its hot flag, hang off
``KeyBuilder.cluster_values(shard)``, ``VALUE_SHARDS`` shards each in its own slot (a value's
shard: crc32 of ``signal:hash``), so they spread over a Redis Cluster (``lua/value.lua``). Most
values are seen by one account only: such a value is a short record in its shard's hash
(account, last seen, expiry; swept lazily by later writes), not a key (~160 bytes each, key
overhead mostly); a second account moves it into a zset of its own. Values written by the
earlier layout (a key per value, ``{xv:<signal>:<hash>}:v`` and ``:hot``) are not read: the
values start over (links made stay in the graph) and the old keys expire within
``observation_ttl`` (or delete them: ``redis-cli --scan --pattern '<prefix>:{xv:*:*}:*'``).
The pairs of accounts hang off
``KeyBuilder.cluster_pairs(shard)``, ``PAIR_SHARDS`` shards each in its own slot (a pair's
shard: crc32 of its lower account), so they spread over a Redis Cluster too: one hash per
lower account, a compact record per pair with its own expiry written in it (swept lazily by
later writes; see ``lua/pair.lua``), not a key per pair (~170 bytes each, key overhead mostly).
One ``lua/pair.lua`` call per shard (every note of the batch with pairs there, in order), all
in one pipeline. Pairs written by the earlier layout (a hash per pair, ``:p:<a>|<b>``) are
not read: a pair's evidence that had not yet linked it starts over (links made stay in the
graph), and the old keys expire within ``observation_ttl`` (or delete them:
``redis-cli --scan --pattern '<prefix>:{xp:*}:p:*'``). Each
shard holds a copy of every hot flag, which ``pair.lua`` reads (a pair's values do not count
while hot): ``add_values`` writes the copies, with the flag's TTL, in one more round trip
when a value turns hot (rare). A sighting that made a value hot, delivered again, finds it
newly hot again and writes the copy again, so a worker that died between the two round trips
loses nothing. Every key has a TTL. A batch of calls is one pipeline (one round trip).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import Any

from gateway.clusters.observations import (
    PairMatch,
    PairNote,
    PairRule,
    SignalAgreement,
    ValueAdd,
    ValueSeen,
)
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translated
from gateway.redis.keys import KeyBuilder
from gateway.redis.replies import text as _text
from gateway.redis.scripts import Script, ScriptRegistry

_WHAT = "cluster observations"
PAIR_SHARDS = 16  # the pairs' slots: enough to spread over a cluster's nodes; each hot value
# costs one flag copy per shard
VALUE_SHARDS = 128  # the values' slots: value.lua runs once per value a sighting brings (the
# linker's busiest script), so more than the pairs' to even out a cluster's nodes; few
# enough that each shard's hash of single-account values stays one key of many records


def value_shard(signal: str, value_hash: str) -> int:
    """The shard of an evidence value: its record, set and hot flag."""
    return zlib.crc32(f"{signal}:{value_hash}".encode()) % VALUE_SHARDS


def value_args(keys: KeyBuilder, add: ValueAdd) -> list[Any]:
    """A ``value.lua`` call's key and ARGV."""
    base = keys.cluster_values(value_shard(add.signal, add.value_hash))
    head = [base, add.signal, add.value_hash, add.account, repr(add.now)]
    return [*head, add.limit, repr(add.ttl), add.sighting]


def pair_shard(a: str, b: str) -> int:
    """The shard of the pair ``a``, ``b`` (either order): its lower account's, whose hash
    holds the pair's record."""
    return zlib.crc32(min(a, b).encode()) % PAIR_SHARDS


class RedisObservations:
    def __init__(self, client: RedisClient, keys: KeyBuilder | None = None) -> None:
        self._client = client
        self._keys = keys or KeyBuilder()
        self._shards = [self._keys.cluster_pairs(n) for n in range(PAIR_SHARDS)]
        scripts = ScriptRegistry("gateway.clusters", ("value", "pair"))
        self._value, self._pair = scripts["value"], scripts["pair"]

    async def add_value(
        self,
        signal: str,
        value_hash: str,
        account: str,
        now: float,
        *,
        limit: int,
        ttl: float,
        sighting: str = "",
    ) -> ValueSeen:
        add = ValueAdd(signal, value_hash, account, now, limit, ttl, sighting)
        return (await self.add_values([add]))[0]

    async def add_values(self, adds: Sequence[ValueAdd]) -> list[ValueSeen]:
        calls = [self._value.call(1, value_args(self._keys, a)) for a in adds]
        replies = await self._run(calls, self._value)
        flags = [
            ("SET", copy, a.sighting or "1", "EX", math.ceil(a.ttl))
            for a, reply in zip(adds, replies, strict=True)
            if int(reply[1])
            for copy in self.hot_copies(a.signal, a.value_hash)
        ]
        if flags:  # copies of the flags that just turned on, for pair.lua
            await self._run(flags, self._value)
        return [
            ValueSeen(
                tuple(sorted(_text(a) for a in reply[3:])),
                bool(reply[0]),
                bool(reply[1]),
                bool(reply[2]),
            )
            for reply in replies
        ]

    def hot_copies(self, signal: str, value_hash: str) -> list[str]:
        """The copies of a value's hot flag that ``pair.lua`` reads, one in each shard."""
        return [f"{base}:hot:{signal}:{value_hash}" for base in self._shards]

    async def record_pairs(
        self,
        account: str,
        others: Sequence[str],
        signal: str,
        value_hash: str,
        day: int,
        *,
        need: int,
        rule: PairRule,
        occurrence: str = "",
        sighting: str = "",
        now: float = 0.0,
    ) -> list[PairMatch]:
        note = PairNote(
            account, tuple(others), signal, value_hash, day, need, rule, occurrence, sighting, now
        )
        return (await self.record_pairs_many([note]))[0]

    async def record_pairs_many(self, notes: Sequence[PairNote]) -> list[list[PairMatch]]:
        """One ``pair.lua`` call per shard: every note's pairs in that shard, notes in order
        (the keys of one shard are touched in the same order as one call per note), all in
        one pipeline; each note's matches in the order of its ``others``."""
        args: dict[int, list[Any]] = {}  # shard -> its call's ARGV
        parts: dict[int, list[int]] = {}  # shard -> the note of each of its call's replies
        for i, n in enumerate(notes):
            by_shard: dict[int, list[str]] = {}
            for other in n.others:
                by_shard.setdefault(pair_shard(n.account, other), []).append(other)
            for shard, others in by_shard.items():
                args.setdefault(shard, []).extend(_note_args(n, others))
                parts.setdefault(shard, []).append(i)
        shards = sorted(args)
        calls = [self._pair.call(1, [self._shards[s], *args[s]]) for s in shards]
        replies = await self._run(calls, self._pair)
        found: list[list[PairMatch]] = [[] for _ in notes]
        for shard, reply in zip(shards, replies, strict=True):
            for i, part in zip(parts[shard], reply, strict=True):
                found[i] += _matches(part)
        for n, matches in zip(notes, found, strict=True):
            order = {other: at for at, other in enumerate(n.others)}
            matches.sort(key=lambda m: order[m.other])
        return found

    async def _run(self, calls: list[tuple[Any, ...]], script: Script) -> list[Any]:
        with translated(_WHAT):
            replies = await run_batch(self._client, calls, (script,))
        failure = first_failure(replies, _WHAT)
        if failure is not None:
            raise failure
        return replies


def _note_args(n: PairNote, others: list[str]) -> list[Any]:
    """A note's part of a ``pair.lua`` call: its pairs with ``others`` (one shard's)."""
    head = [n.account, n.signal, n.value_hash, n.day, n.need, n.rule.min_signals]
    head += [n.rule.repeat_days, repr(n.rule.ttl), n.occurrence, n.sighting]
    head += [repr(n.now) if n.now else "", len(others)]
    return [*head, *others]


def _matches(reply: list[Any]) -> list[PairMatch]:
    matches = []
    i = 0
    while i < len(reply):
        other, count = _text(reply[i]), int(reply[i + 1])
        triples = reply[i + 2 : i + 2 + 3 * count]
        signals = sorted(
            (
                SignalAgreement(_text(triples[j]), _text(triples[j + 1]), int(triples[j + 2]))
                for j in range(0, len(triples), 3)
            ),
            key=lambda agreement: agreement.signal,
        )
        matches.append(PairMatch(other, tuple(signals)))
        i += 2 + 3 * count
    return matches
