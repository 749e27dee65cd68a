"""The linker's observations in Redis (shared by replicas): two Lua scripts, one slot.

Keys hang off ``KeyBuilder.subsystem("clusters", "s")`` (layout in ``lua/value.lua`` and
``lua/pair.lua``); every key has a TTL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from gateway.clusters.observations import PairMatch, PairRule, SignalAgreement, ValueSeen
from gateway.limiter.keys import KeyBuilder
from gateway.limiter.store import StoreUnavailable


def _load(name: str) -> str:
    return (resources.files("gateway.clusters") / "lua" / f"{name}.lua").read_text("utf-8")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@asynccontextmanager
async def _guard() -> AsyncIterator[None]:
    try:
        yield
    except RedisError as exc:
        raise StoreUnavailable(f"cluster observations: {exc}") from exc


class RedisObservations:
    def __init__(self, client: Redis | RedisCluster, keys: KeyBuilder | None = None) -> None:
        self._base = (keys or KeyBuilder()).subsystem("clusters", "s")
        self._value = client.register_script(_load("value"))
        self._pair = client.register_script(_load("pair"))

    async def add_value(
        self, signal: str, value_hash: str, account: str, now: float, *, limit: int, ttl: float
    ) -> ValueSeen:
        args: list[str | int] = [signal, value_hash, account, repr(now), limit, repr(ttl)]
        async with _guard():
            reply = await self._value(keys=[self._base], args=args)
        others = tuple(sorted(_text(a) for a in reply[3:]))
        return ValueSeen(others, bool(reply[0]), bool(reply[1]), bool(reply[2]))

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
    ) -> list[PairMatch]:
        if not others:
            return []
        args: list[str | int] = [account, signal, value_hash, day, need, rule.min_signals]
        args += [rule.repeat_days, repr(rule.ttl), *others]
        async with _guard():
            reply = await self._pair(keys=[self._base], args=args)
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
