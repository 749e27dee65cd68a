"""A budget store that survives its backend: deadlines, a circuit breaker, a fallback.

Every call to the primary store runs under a :class:`~gateway.limiter.guard.StoreGuard`:
bounded by ``op_timeout`` (plus the event loop's own lateness, up to ``op_limit``: see
:mod:`.deadline`), a timeout counting as a failure; after ``failures`` consecutive failures
the breaker opens for ``open_for`` seconds and calls skip the primary without touching its
socket. While the primary is unavailable, the policy's failure mode decides, per call:

* ``"open"``: the per-process :class:`~gateway.limiter.fallback.FallbackLimiter` answers,
  every budget divided by ``replicas`` and seeded from the states Redis last reported (not
  full); results carry ``fallback=True``.
* ``"closed"``: :class:`StoreUnavailable` at once (the gateway answers 503).

Enforcement on the primary resumes by itself after a successful half-open probe (the
fallback's state is then dropped). Requests admitted by the fallback are settled on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from gateway.clock import Clock
from gateway.detection.levels import LevelStore
from gateway.limiter.fallback import FallbackLimiter
from gateway.limiter.guard import StoreGuard
from gateway.limiter.seeds import LastSeen
from gateway.limiter.store import BatchSettlement, BudgetStore
from gateway.model import AcquireRequest, AcquireResult, FailureMode, Level, Settlement
from gateway.store_errors import ScriptMissing, StoreUnavailable

T = TypeVar("T")


def _ignore(*_: object) -> None:
    return None


class Primary(BudgetStore, LevelStore, Protocol):
    """What the resilient store wraps: budgets and detection levels (the Redis store)."""


class ResilientStore:
    def __init__(
        self,
        primary: Primary,
        clock: Clock,
        failure_mode: Callable[[], FailureMode],
        replicas: int = 1,
        *,
        op_timeout: float = 0.25,
        op_limit: float | None = None,
        failures: int = 3,
        open_for: float = 3.0,
        on_error: Callable[[str, BaseException], None] | None = None,
        on_fallback: Callable[[str], None] | None = None,
        on_state: Callable[[bool], None] | None = None,
        batcher: BatchSettlement | None = None,
    ) -> None:
        """``batcher``: the primary's batched settlement, when it has one (the Redis store)."""
        self.primary = primary
        self._batcher = batcher
        self._clock = clock
        self._seen = LastSeen()
        self.fallback = FallbackLimiter(clock, replicas, self._seen)
        self._failure_mode = failure_mode
        self._on_fallback = on_fallback or _ignore
        self._on_state = on_state or _ignore
        self.guard = StoreGuard(
            clock,
            primary.ping,
            op_timeout=op_timeout,
            op_limit=op_limit,
            failures=failures,
            open_for=open_for,
            on_error=on_error,
            on_state=self._state_changed,
        )
        self.fallbacks = 0

    @property
    def available(self) -> bool:
        """False while the breaker is open or probing."""
        return self.guard.available

    @property
    def errors(self) -> int:
        return self.guard.errors

    def _state_changed(self, up: bool) -> None:
        if up:
            self.fallback.reset()
        self._on_state(up)

    async def _call(
        self, name: str, primary: Callable[[], Awaitable[T]], fallback: Callable[[], T]
    ) -> T:
        try:
            return await self.guard.run(name, primary)
        except StoreUnavailable:
            if self._failure_mode() == "closed":
                raise
        self.fallbacks += 1
        self._on_fallback(name)
        return fallback()

    async def acquire(self, request: AcquireRequest) -> AcquireResult:
        return await self._call(
            "acquire",
            lambda: self._seen_by_primary(request, self.primary.acquire),
            lambda: self.fallback.acquire(request, commit=True),
        )

    async def peek(self, request: AcquireRequest) -> AcquireResult:
        return await self._call(
            "peek",
            lambda: self._seen_by_primary(request, self.primary.peek),
            lambda: self.fallback.acquire(request, commit=False),
        )

    async def _seen_by_primary(
        self, request: AcquireRequest, call: Callable[[AcquireRequest], Awaitable[AcquireResult]]
    ) -> AcquireResult:
        """The primary's answer, remembered to seed the fallback of a later outage."""
        result = await call(request)
        self._seen.record(request, result, self._clock.now())
        return result

    async def settle(self, settlement: Settlement) -> None:
        if self.fallback.admitted(settlement.request_id):
            self.fallback.settle(settlement)
            return
        await self._call("settle", lambda: self.primary.settle(settlement), _nothing)

    async def settle_many(self, settlements: Sequence[Settlement]) -> None:
        """Settle a batch: one primary call (and one timeout) for all of it."""
        primary = []
        for settlement in settlements:
            if self.fallback.admitted(settlement.request_id):
                self.fallback.settle(settlement)
            else:
                primary.append(settlement)
        if primary:
            await self._call("settle", lambda: self._settle_primary(primary), _nothing)

    async def _settle_primary(self, settlements: Sequence[Settlement]) -> None:
        if self._batcher is not None:
            await self._batcher.settle_many(settlements)
        else:
            await asyncio.gather(*(self.primary.settle(s) for s in settlements))

    def settle_soon(self, settlements: Sequence[Settlement]) -> asyncio.Future[Any] | None:
        """The primary's synchronous settlement (see ``RedisBudgetStore.settle_soon``) while
        the breaker is closed and none of these were admitted by the fallback; else None
        (use :meth:`settle_many`). Failures count like any other primary failure."""
        if self._batcher is None or not self.guard.available:
            return None
        if any(self.fallback.admitted(s.request_id) for s in settlements):
            return None
        future = self._batcher.settle_soon(settlements)
        if future is not None:
            future.add_done_callback(self._settled_soon)
        return future

    def _settled_soon(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self.guard.succeeded()
        elif not isinstance(error, ScriptMissing):  # a flushed script cache: sent again whole
            self.guard.failed("settle", error)

    async def refresh_leases(self, request_ids_by_key: dict[str, list[str]], ttl: float) -> None:
        await self._call(
            "refresh_leases",
            lambda: self.primary.refresh_leases(request_ids_by_key, ttl),
            _nothing,  # fallback slots are not leased (see gateway.limiter.fallback)
        )

    async def set_level(self, key: str, level: Level, ttl: float) -> Level:
        return await self._call(
            "set_level",
            lambda: self.primary.set_level(key, level, ttl),
            lambda: self.fallback.set_level(key, level, ttl),
        )

    async def get_level(self, key: str) -> Level:
        return await self._call(
            "get_level", lambda: self.primary.get_level(key), lambda: self.fallback.get_level(key)
        )

    async def set_flag(self, key: str, ttl: float) -> bool:
        return await self._call(
            "set_flag",
            lambda: self.primary.set_flag(key, ttl),
            lambda: self.fallback.set_flag(key, ttl),
        )

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self.guard.op_timeout):
                return await self.primary.ping()
        except TimeoutError:
            return False

    async def close(self) -> None:
        await self.guard.close()
        await self.primary.close()


def _nothing() -> None:
    """Fallback of a primary settlement: the fallback never charged it."""
    return None
