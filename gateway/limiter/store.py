"""The budget store interface.

Check-and-consume is one atomic operation over all of a request's budgets: either every
enforced budget admits and all of them are charged, or nothing is charged. Shadow budgets
are evaluated; one that would refuse is reported in its state and not charged.

Implementations: :mod:`gateway.limiter.memory` (one process; injected clock) and
:mod:`gateway.limiter.redis_store` (Lua, one round trip per request).
"""

from __future__ import annotations

from typing import Protocol

from gateway.model import AcquireRequest, AcquireResult, Level, Settlement


class StoreUnavailable(Exception):
    """The store could not be reached or answered an error."""


class BudgetStore(Protocol):
    async def acquire(self, request: AcquireRequest) -> AcquireResult:
        """Check and consume every charge atomically; read the detection level."""
        ...

    async def settle(self, settlement: Settlement) -> None:
        """Apply token adjustments (refund or extra charge) and release concurrency slots."""
        ...

    async def refresh_leases(self, request_ids_by_key: dict[str, list[str]], ttl: float) -> None:
        """Extend concurrency leases of requests still in flight (long streams)."""
        ...

    async def peek(self, request: AcquireRequest) -> AcquireResult:
        """Report the budgets' state without consuming anything (admin, explain)."""
        ...

    async def set_level(self, key: str, level: Level, ttl: float) -> None: ...

    async def get_level(self, key: str) -> Level: ...

    async def set_flag(self, key: str, ttl: float) -> bool:
        """SET key NX with a TTL; False if it already existed (replay protection)."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
