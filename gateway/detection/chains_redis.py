"""Asks kept in stored state, in Redis (the rule is in :mod:`gateway.detection.chains`).

One hash per account and detector window epoch under the account's detection tag,
``{det:a:<account>}:chains:<epoch>``: ref (hex) -> continuations x 1024 + ask (1/1000),
expiring two epochs after its last write. One ``lua/chains.lua`` call per account and epoch
with its requests of the batch in order (a request may continue an answer of the same
batch), reading this epoch's hash and the one before, all in one pipeline: one round trip.
Only accounts whose requests continue or create stored state are called: a batch of Chat
Completions requests costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gateway.detection.chains import ASK_SCALE, ChainRequest, Continued, kept
from gateway.detection.types import entity_of_account
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translating
from gateway.redis.keys import KeyBuilder
from gateway.redis.scripts import ScriptRegistry

_translated = translating("chain asks")


def _ref(ref: int) -> str:
    return format(ref, "x") if ref else "0"


class RedisChains:
    def __init__(self, redis: RedisClient, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys
        self._script = ScriptRegistry("gateway.detection", ("chains",))["chains"]

    @_translated
    async def inherit_many(self, requests: Sequence[ChainRequest]) -> list[Continued]:
        groups: dict[tuple[str, int], list[int]] = {}  # per account and epoch, in order
        for i, r in enumerate(requests):
            if r.parent or r.stored:
                groups.setdefault((r.account, r.epoch), []).append(i)
        out = [Continued()] * len(requests)
        if not groups:
            return out
        calls: list[tuple[Any, ...]] = []
        for (account, epoch), indexes in groups.items():
            first = requests[indexes[0]]
            entity = entity_of_account(account)
            args: list[Any] = [
                self._keys.detection(entity, "chains", str(epoch)),
                self._keys.detection(entity, "chains", str(epoch - 1)),
                max(1, math.ceil(2 * first.window)),
                first.cap,
            ]
            for i in indexes:
                r = requests[i]
                args += [_ref(r.parent), _ref(r.stored), kept(r.ask)]
            calls.append(self._script.call(2, args))
        replies = await run_batch(self._redis, calls, (self._script,))
        failure = first_failure(replies, "chain asks")
        if failure is not None:
            raise failure
        for indexes, found in zip(groups.values(), replies, strict=True):
            for n, i in enumerate(indexes):
                out[i] = Continued(int(found[2 * n]) / ASK_SCALE, int(found[2 * n + 1]))
        return out
