"""The linker's observations in Redis (shared by replicas): two Lua scripts.

The accounts seen with one evidence value, and its hot flag, hang off
``KeyBuilder.cluster_value(signal, hash)``: each value in its own slot, so the value sets
spread over a Redis Cluster (``lua/value.lua``). The pairs of accounts hang off
``KeyBuilder.cluster_observations()`` (one slot, ``lua/pair.lua``), with a copy of every hot
flag, which ``pair.lua`` reads (a pair's values do not count while hot): ``add_values``
writes the copy, with the flag's TTL, in one more round trip when a value turns hot (rare).
A sighting that made a value hot, delivered again, finds it newly hot again and writes the
copy again, so a worker that died between the two round trips loses nothing. Every key has
a TTL. A batch of calls is one pipeline (one round trip).
"""

from __future__ import annotations

import math
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


class RedisObservations:
    def __init__(self, client: RedisClient, keys: KeyBuilder | None = None) -> None:
        self._client = client
        self._keys = keys or KeyBuilder()
        self._base = self._keys.cluster_observations()
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
        calls = [
            self._value.call(
                1,
                [
                    self._keys.cluster_value(a.signal, a.value_hash),
                    a.account,
                    repr(a.now),
                    a.limit,
                    repr(a.ttl),
                    a.sighting,
                ],
            )
            for a in adds
        ]
        replies = await self._run(calls, self._value)
        flags = [
            ("SET", self._hot_copy(a), a.sighting or "1", "EX", math.ceil(a.ttl))
            for a, reply in zip(adds, replies, strict=True)
            if int(reply[1])
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

    def _hot_copy(self, add: ValueAdd) -> str:
        """The copy of a value's hot flag that ``pair.lua`` reads (in the pairs' slot)."""
        return f"{self._base}:hot:{add.signal}:{add.value_hash}"

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
    ) -> list[PairMatch]:
        note = PairNote(
            account, tuple(others), signal, value_hash, day, need, rule, occurrence, sighting
        )
        return (await self.record_pairs_many([note]))[0]

    async def record_pairs_many(self, notes: Sequence[PairNote]) -> list[list[PairMatch]]:
        wanted = [n for n in notes if n.others]
        calls = []
        for n in wanted:
            args: list[str | int] = [
                self._base,
                n.account,
                n.signal,
                n.value_hash,
                n.day,
                n.need,
                n.rule.min_signals,
                n.rule.repeat_days,
                repr(n.rule.ttl),
                n.occurrence,
                n.sighting,
                *n.others,
            ]
            calls.append(self._pair.call(1, args))
        replies = iter(await self._run(calls, self._pair))
        return [_matches(next(replies)) if n.others else [] for n in notes]

    async def _run(self, calls: list[tuple[Any, ...]], script: Script) -> list[Any]:
        with translated(_WHAT):
            replies = await run_batch(self._client, calls, (script,))
        failure = first_failure(replies, _WHAT)
        if failure is not None:
            raise failure
        return replies


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
