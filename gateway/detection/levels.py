"""The detection levels and flags capability of the budget store.

Detection writes an account's or a cluster's level where the budget script reads it (same
hash tag, same slot); challenges set flags (clearances, replay guards) once. The memory,
Redis and resilient budget stores implement it; ``gateway.app`` checks that once and hands
it to the detection engine and the challenge issuer, which see nothing else of the store.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gateway.model import Level


@runtime_checkable
class LevelStore(Protocol):
    async def set_level(self, key: str, level: Level, ttl: float) -> Level:
        """Set ``key`` to ``level`` for ``ttl`` seconds (NONE deletes it) and return the level
        it held just before (NONE if none or expired), atomically: of several writers of
        one key, each sees the level the previous one left."""
        ...

    async def get_level(self, key: str) -> Level: ...

    async def set_flag(self, key: str, ttl: float) -> bool:
        """SET key NX with a TTL; False if it already existed (replay protection)."""
        ...
