"""The linker's observations in Redis (shared by replicas): two Lua scripts, one slot.

Keys hang off ``KeyBuilder.cluster_observations()`` (layout in ``lua/value.lua`` and
``lua/pair.lua``); every key has a TTL. A batch of calls is one pipeline (one round trip).
"""

from __future__ import annotations

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
        self._base = (keys or KeyBuilder()).cluster_observations()
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
                    self._base,
                    a.signal,
                    a.value_hash,
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
        return [
            ValueSeen(
                tuple(sorted(_text(a) for a in reply[3:])),
                bool(reply[0]),
                bool(reply[1]),
                bool(reply[2]),
            )
            for reply in replies
        ]

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
