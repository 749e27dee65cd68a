"""Newcomer records and cohorts in Redis (the rule is in :mod:`gateway.detection.newcomers`).

Per account, under its detection tag, ``{det:a:<account>}:first``: its first request on record
(``SET NX``, refreshed to ``known_ttl`` on every arrival). The population's first record,
``{x:detnew}:epoch`` (``SET NX``, one small key). Per cohort cell and time bucket,
``{detnew:<cell>}:<bucket>``: a set of members that expires three spans after its last join;
beside it (same slot) ``...:asks``, a HyperLogLog of the asks the joins brought (``PFADD``
answers whether a join's ask is new to it: a repeated ask never is).
A batch costs one pipeline to arrive and one to join (one round trip each); every command
touches one key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gateway.detection.newcomers import Arrival, Join
from gateway.detection.types import entity_of_account
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translating
from gateway.redis.keys import KeyBuilder

_translated = translating("newcomer cohorts")
_CALLS = 6  # commands per join


class RedisNewcomers:
    def __init__(self, redis: RedisClient, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys

    async def _run(self, calls: list[tuple[Any, ...]]) -> list[Any]:
        replies = await run_batch(self._redis, calls)
        failure = first_failure(replies, "newcomer cohorts")
        if failure is not None:
            raise failure
        return list(replies)

    @_translated
    async def arrive_many(self, arrivals: Sequence[Arrival]) -> tuple[float, list[float]]:
        if not arrivals:
            return 0.0, []
        epoch = self._keys.newcomers_epoch()
        calls: list[tuple[Any, ...]] = [("SET", epoch, repr(arrivals[0].now), "NX"), ("GET", epoch)]
        for a in arrivals:
            key = self._keys.detection(entity_of_account(a.account), "first")
            ttl = max(1, math.ceil(a.known_ttl))
            calls += [
                ("SET", key, repr(a.now), "NX", "EX", ttl),
                ("EXPIRE", key, ttl),
                ("GET", key),
            ]
        replies = await self._run(calls)
        return float(replies[1]), [float(r) for r in replies[4::3]]

    @_translated
    async def join_many(self, joins: Sequence[Join]) -> list[tuple[int, bool]]:
        calls: list[tuple[Any, ...]] = []
        for j in joins:
            key, asks = (
                self._keys.newcomer_cohort(j.cell, j.bucket),
                self._keys.newcomer_asks(j.cell, j.bucket),
            )
            ttl = max(1, math.ceil(3 * j.span))
            calls += [
                ("SADD", key, j.account),
                ("EXPIRE", key, ttl),
                ("SCARD", key),
                ("SCARD", self._keys.newcomer_cohort(j.cell, j.bucket - 1)),
                ("PFADD", asks, str(j.ask)),
                ("EXPIRE", asks, ttl),
            ]
        replies = await self._run(calls) if calls else []
        return [
            (int(replies[i + 2]) + int(replies[i + 3]), bool(int(replies[i + 4])))
            for i in range(0, len(replies), _CALLS)
        ]
