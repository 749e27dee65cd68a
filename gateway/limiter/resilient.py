"""A budget store that survives its backend: short timeouts, a circuit breaker, a fallback.

Every call to the primary store is bounded by ``op_timeout`` (plus the time the event loop
itself ran late, up to ``op_limit``: see :mod:`.deadline`); after ``failures``
consecutive failures the breaker opens for ``open_for`` seconds and calls skip the primary.
While the primary is unavailable, the policy's failure mode decides, per call:

* ``"open"``: a per-process :class:`MemoryBudgetStore` answers, with every budget's limit
  and rate divided by ``replicas`` (at least 1), so the fleet as a whole stays close to
  the configured budget; results carry ``fallback=True``.
* ``"closed"``: :class:`StoreUnavailable` at once (the gateway answers 503).

Enforcement on the primary resumes by itself after a successful half-open probe. Requests
admitted by the fallback are settled on the fallback.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar

from gateway.clock import Clock
from gateway.detection.levels import LevelStore
from gateway.limiter.breaker import CircuitBreaker
from gateway.limiter.deadline import Deadline
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.store import BatchSettlement, BudgetStore
from gateway.model import AcquireRequest, AcquireResult, BudgetSpec, Charge, Level, Settlement
from gateway.store_errors import ScriptMissing, StoreUnavailable

T = TypeVar("T")
FailureMode = Literal["open", "closed"]
LAG_ALLOWANCE = 2.0  # default op_limit: this many op_timeouts when the event loop runs late
_TRACKED = 65536  # fallback-admitted request ids remembered for their settlement


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
        self.fallback = MemoryBudgetStore(clock)
        self._failure_mode = failure_mode
        self._replicas = max(1, replicas)
        self._op_timeout = op_timeout
        self._op_limit = op_limit if op_limit is not None else LAG_ALLOWANCE * op_timeout
        self._breaker = CircuitBreaker(clock, failures=failures, open_for=open_for)
        self._on_error = on_error or _ignore
        self._on_fallback = on_fallback or _ignore
        self._on_state = on_state or _ignore
        self._scaled: dict[BudgetSpec, BudgetSpec] = {}
        self._fallback_ids: OrderedDict[str, None] = OrderedDict()
        self.errors = 0
        self.fallbacks = 0

    @property
    def available(self) -> bool:
        """False while the breaker is open or probing."""
        return self._breaker.state == "closed"

    async def _call(
        self, name: str, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        if self._breaker.allow():
            try:
                async with Deadline(self._op_timeout, self._op_limit):
                    result = await primary()
            except (StoreUnavailable, TimeoutError) as exc:
                self.errors += 1
                self._on_error(name, exc)
                if self._breaker.failure():
                    self._on_state(False)
            except BaseException:  # cancelled, or a caller's bug (ValueError): no verdict
                self._breaker.abandon()
                raise
            else:
                if self._breaker.success():
                    self._on_state(True)
                return result
        if self._failure_mode() == "closed":
            raise StoreUnavailable(f"budget store unavailable ({name})")
        self.fallbacks += 1
        self._on_fallback(name)
        return await fallback()

    async def acquire(self, request: AcquireRequest) -> AcquireResult:
        return await self._call(
            "acquire",
            lambda: self.primary.acquire(request),
            lambda: self._fallback_acquire(request, commit=True),
        )

    async def peek(self, request: AcquireRequest) -> AcquireResult:
        return await self._call(
            "peek",
            lambda: self.primary.peek(request),
            lambda: self._fallback_acquire(request, commit=False),
        )

    def _scale(self, spec: BudgetSpec) -> BudgetSpec:
        if self._replicas == 1:
            return spec
        scaled = self._scaled.get(spec)
        if scaled is None:
            if len(self._scaled) >= _TRACKED:
                self._scaled.clear()
            scaled = dataclasses.replace(
                spec, limit=max(1, spec.limit // self._replicas), rate=spec.rate / self._replicas
            )
            self._scaled[spec] = scaled
        return scaled

    async def _fallback_acquire(self, request: AcquireRequest, *, commit: bool) -> AcquireResult:
        scaled = dataclasses.replace(
            request,
            charges=tuple(Charge(self._scale(c.budget), c.cost, c.cell) for c in request.charges),
        )
        run = self.fallback.acquire if commit else self.fallback.peek
        result = await run(scaled)
        if commit and result.allowed:
            self._fallback_ids[request.request_id] = None
            if len(self._fallback_ids) > _TRACKED:
                self._fallback_ids.popitem(last=False)
        states = tuple(
            dataclasses.replace(state, budget=charge.budget)
            for state, charge in zip(result.states, request.charges, strict=True)
        )
        return dataclasses.replace(result, states=states, fallback=True)

    async def settle(self, settlement: Settlement) -> None:
        if settlement.request_id in self._fallback_ids:
            await self._settle_fallback(settlement)
            return
        await self._call("settle", lambda: self.primary.settle(settlement), self._nothing)

    async def settle_many(self, settlements: Sequence[Settlement]) -> None:
        """Settle a batch: one primary call (and one timeout) for all of it."""
        primary = []
        for settlement in settlements:
            if settlement.request_id in self._fallback_ids:
                await self._settle_fallback(settlement)
            else:
                primary.append(settlement)
        if primary:
            await self._call("settle", lambda: self._settle_primary(primary), self._nothing)

    async def _settle_primary(self, settlements: Sequence[Settlement]) -> None:
        if self._batcher is not None:
            await self._batcher.settle_many(settlements)
        else:
            await asyncio.gather(*(self.primary.settle(s) for s in settlements))

    def settle_soon(self, settlements: Sequence[Settlement]) -> asyncio.Future[Any] | None:
        """The primary's synchronous settlement (see ``RedisBudgetStore.settle_soon``) while
        the breaker is closed and none of these were admitted by the fallback; else None
        (use :meth:`settle_many`). Failures count like any other primary failure."""
        if self._batcher is None or self._breaker.state != "closed":
            return None
        if self._fallback_ids and any(s.request_id in self._fallback_ids for s in settlements):
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
            self._breaker.success()
            return
        if isinstance(error, ScriptMissing):
            return  # the server is fine, its script cache was flushed: sent again whole
        self.errors += 1
        self._on_error("settle", error)
        if self._breaker.failure():
            self._on_state(False)

    async def _settle_fallback(self, settlement: Settlement) -> None:
        """A request the fallback admitted is settled there."""
        del self._fallback_ids[settlement.request_id]
        await self.fallback.settle(
            Settlement(
                settlement.request_id,
                tuple((self._scale(spec), delta) for spec, delta in settlement.adjustments),
                tuple(self._scale(spec) for spec in settlement.releases),
            )
        )

    async def _nothing(self) -> None:
        """Fallback of a primary settlement: the fallback never charged it."""
        return None

    async def refresh_leases(self, request_ids_by_key: dict[str, list[str]], ttl: float) -> None:
        await self.fallback.refresh_leases(request_ids_by_key, ttl)
        await self._call(
            "refresh_leases",
            lambda: self.primary.refresh_leases(request_ids_by_key, ttl),
            self._nothing,
        )

    async def set_level(self, key: str, level: Level, ttl: float) -> None:
        await self._call(
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
            async with asyncio.timeout(self._op_timeout):
                return await self.primary.ping()
        except TimeoutError:
            return False

    async def close(self) -> None:
        await self.primary.close()
        await self.fallback.close()
