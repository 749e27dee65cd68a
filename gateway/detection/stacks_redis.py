"""Recent client stacks per account in Redis (the rule is in :mod:`gateway.detection.stacks`).

One string per account under its detection tag, ``{det:a:<account>}:stacks``: its last
``recent`` stacks as runs (a stack's 8 bytes and how many requests in a row sent it, newest
first), pushed, trimmed and counted by ``lua/stacks.lua``, one call per request, in one
pipeline for a whole batch (one round trip). An account sending one stack takes 9 bytes (the
list of ``recent`` entries it replaced took ~300 bytes a key); a list of the earlier layout
(``LPUSH``/``LTRIM`` of the stacks' decimal text) is read and rewritten by the next request.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from gateway.detection.stacks import StackChurn, StackRequest
from gateway.detection.types import entity_of_account
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translating
from gateway.redis.keys import KeyBuilder
from gateway.redis.scripts import ScriptRegistry

_translated = translating("client stacks")
_STACK = struct.Struct(">Q")  # a stack in the runs: 64-bit unsigned, big-endian


class RedisStacks:
    def __init__(self, redis: RedisClient, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys
        self._script = ScriptRegistry("gateway.detection", ("stacks",))["stacks"]

    @_translated
    async def record_stacks(self, requests: Sequence[StackRequest]) -> list[StackChurn]:
        calls: list[tuple[Any, ...]] = []
        for r in requests:
            key = self._keys.detection(entity_of_account(r.account), "stacks")
            stack = _STACK.pack(r.stack & 0xFFFF_FFFF_FFFF_FFFF)
            calls.append(self._script.call(1, [key, stack, r.recent, max(1, math.ceil(r.ttl))]))
        replies = await run_batch(self._redis, calls, (self._script,))
        failure = first_failure(replies, "client stacks")
        if failure is not None:
            raise failure
        return [StackChurn(int(kept), int(distinct)) for kept, distinct in replies]
