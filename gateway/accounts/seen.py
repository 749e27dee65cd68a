"""The per-account "last seen" record: tier, first and last request time.

The admin API needs it to show an account's real tier and to tell an unknown account (404)
from a quiet one. It is written off the hot path by :mod:`gateway.accounts.recorder`, at
most once per account per ``refresh`` seconds, so its cost per request is a dict lookup.

Redis layout: one hash per account, ``<prefix>:{seen:<account>}`` with fields ``tier``,
``first`` and ``last`` (epoch seconds), expiring ``ttl`` seconds after the last write.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.clock import Clock
from gateway.redis.client import RedisClient
from gateway.redis.errors import translated
from gateway.redis.keys import KeyBuilder
from gateway.redis.replies import text as _text

SEEN_TTL = 90 * 86400.0  # an account quiet for this long is forgotten


@dataclass(frozen=True, slots=True)
class Seen:
    tier: str
    first_seen: float
    last_seen: float

    def to_json(self) -> dict[str, Any]:
        return {"tier": self.tier, "first_seen": self.first_seen, "last_seen": self.last_seen}


class SeenStore(Protocol):
    async def touch(self, account: str, tier: str, now: float) -> None:
        """Record a request of ``account`` at ``now`` under ``tier``."""
        ...

    async def get(self, account: str) -> Seen | None:
        """The account's record, None when it was never seen (or forgotten)."""
        ...


class MemorySeen:
    """One process (the memory store): a dict, forgotten after ``ttl`` like the Redis hash."""

    def __init__(self, clock: Clock, ttl: float = SEEN_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._seen: dict[str, Seen] = {}

    async def touch(self, account: str, tier: str, now: float) -> None:
        old = self._seen.get(account)
        first = old.first_seen if old is not None and now - old.last_seen < self._ttl else now
        self._seen[account] = Seen(tier, first, now)

    async def get(self, account: str) -> Seen | None:
        seen = self._seen.get(account)
        if seen is not None and self._clock.now() - seen.last_seen >= self._ttl:
            del self._seen[account]
            return None
        return seen


async def _reached(call: Awaitable[Any]) -> Any:
    """The reply, or :class:`StoreUnavailable` (the admin API answers 503)."""
    with translated("seen accounts"):
        return await call


class RedisSeen:
    """Shared by every replica: one small hash per account, one round trip per write."""

    def __init__(self, client: RedisClient, keys: KeyBuilder, ttl: float = SEEN_TTL) -> None:
        self._client = client
        self._keys = keys
        self._ttl = int(ttl)

    def _key(self, account: str) -> str:
        return self._keys.seen(account)

    async def touch(self, account: str, tier: str, now: float) -> None:
        key = self._key(account)
        pipe = self._client.pipeline(transaction=False)
        pipe.hsetnx(key, "first", repr(now))
        pipe.hset(key, mapping={"tier": tier, "last": repr(now)})
        pipe.expire(key, self._ttl)
        await _reached(pipe.execute())

    async def get(self, account: str) -> Seen | None:
        found = await _reached(self._client.hgetall(self._key(account)))  # type: ignore[arg-type]
        if not found:
            return None
        fields = {_text(k): _text(v) for k, v in found.items()}
        last = float(fields.get("last", "0"))
        return Seen(fields.get("tier", ""), float(fields.get("first", last)), last)
