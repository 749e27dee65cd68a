"""Recent client stacks per account in Redis (the rule is in :mod:`gateway.detection.stacks`).

One list per account under its detection tag, ``{det:a:<account>}:stacks``: ``LPUSH``,
``LTRIM`` to the last ``recent``, ``LRANGE`` and ``EXPIRE`` per request, in one pipeline for a
whole batch (one round trip).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gateway.detection.stacks import StackChurn, StackRequest
from gateway.detection.types import entity_of_account
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translating
from gateway.redis.keys import KeyBuilder

_translated = translating("client stacks")


class RedisStacks:
    def __init__(self, redis: RedisClient, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys

    @_translated
    async def record_stacks(self, requests: Sequence[StackRequest]) -> list[StackChurn]:
        calls: list[tuple[Any, ...]] = []
        for r in requests:
            key = self._keys.detection(entity_of_account(r.account), "stacks")
            calls += [
                ("LPUSH", key, r.stack),
                ("LTRIM", key, 0, r.recent - 1),
                ("LRANGE", key, 0, -1),
                ("EXPIRE", key, max(1, math.ceil(r.ttl))),
            ]
        replies = await run_batch(self._redis, calls)
        failure = first_failure(replies, "client stacks")
        if failure is not None:
            raise failure
        return [StackChurn(len(kept), len(set(kept))) for kept in replies[2::4]]
