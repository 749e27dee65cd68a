"""The budget store's capabilities, one Protocol each.

Check-and-consume is one atomic operation over all of a request's budgets: either every
enforced budget admits and all of them are charged, or nothing is charged. Shadow budgets
are evaluated; one that would refuse is reported in its state and not charged.

* :class:`BudgetStore`: acquire, settle, refresh leases, peek (every store).
* :class:`BatchSettlement`: settlements in batches, queued on the shared connection at once
  (the Redis store, and the resilient store around it; not the memory store).

The detection levels and flags that the budget script reads are a capability of their own,
:class:`gateway.detection.levels.LevelStore`. ``gateway.app`` checks which capabilities the
built store has, once, and hands each consumer only the one it uses.

Implementations: :mod:`gateway.limiter.memory` (one process; injected clock),
:mod:`gateway.limiter.redis_store` (Lua, one round trip per request) and
:mod:`gateway.limiter.resilient` (timeouts, breaker, fallback around the Redis store).
Failures are :class:`gateway.store_errors.StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from gateway.model import AcquireRequest, AcquireResult, Settlement


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

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


@runtime_checkable
class BatchSettlement(Protocol):
    def settle_soon(self, settlements: Sequence[Settlement]) -> asyncio.Future[Any] | None:
        """Queue a batch now, so that every budget check this process sends later finds it
        applied; None when that cannot be done synchronously (use :meth:`settle_many`).
        The future fails with :class:`~gateway.store_errors.ScriptMissing` when the server
        had lost the script (nothing ran: send the batch again)."""
        ...

    async def settle_many(self, settlements: Sequence[Settlement]) -> None:
        """Settle a batch in as few round trips as the store can."""
        ...
