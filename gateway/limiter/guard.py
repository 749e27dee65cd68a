"""Deadlines and one circuit breaker around every hot-path call to the shared store.

A frozen Redis (SIGSTOP, a stuck VM, a long Lua script) is worse than a dead one: its
socket accepts writes and never answers, so nothing fails by itself. :class:`StoreGuard`
bounds every call it runs by a :class:`~gateway.limiter.deadline.Deadline` and counts
timeouts as failures, like refused connections. After ``failures`` consecutive failures the
breaker opens: calls raise :class:`StoreUnavailable` at once, without touching the socket,
until a half-open probe succeeds.

After a failure, and until the next success, calls get a short deadline
(``SUSPECT_SHARE`` of the usual one): a healthy store answers in well under a millisecond,
so a call that has not answered by then will not answer, and a request that meets a store
that just stopped answering waits for one full deadline at most, not one per store call it
makes (a cluster lookup, then a budget check).

No request waits on a half-open probe: once ``open_for`` has passed, the next refused call
starts ``probe()`` (a ``PING`` over the store's connection) in the background, under the
full deadline (a Redis just thawed has a backlog and a handshake to answer); its success
closes the breaker, its failure opens it again. The budget store
(:class:`~gateway.limiter.resilient.ResilientStore`) and the cluster cache's first lookups
share one guard, so either one noticing a hung Redis protects both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.clock import Clock
from gateway.limiter.breaker import CircuitBreaker
from gateway.limiter.deadline import Deadline
from gateway.store_errors import StoreUnavailable

T = TypeVar("T")
LAG_ALLOWANCE = 2.0  # default op_limit: this many op_timeouts when the event loop runs late
SUSPECT_SHARE = 0.2  # the deadline after a failure, as a share of the usual one


def _ignore(*_: object) -> None:
    return None


class StoreGuard:
    def __init__(
        self,
        clock: Clock,
        probe: Callable[[], Awaitable[bool]],
        *,
        op_timeout: float = 0.25,
        op_limit: float | None = None,
        failures: int = 3,
        open_for: float = 3.0,
        on_error: Callable[[str, BaseException], None] | None = None,
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        if op_timeout <= 0:
            raise ValueError("a store guard needs op_timeout > 0")
        self.op_timeout = op_timeout
        self._op_limit = op_limit if op_limit is not None else LAG_ALLOWANCE * op_timeout
        self._breaker = CircuitBreaker(clock, failures=failures, open_for=open_for)
        self._probe = probe
        self._probing: asyncio.Task[None] | None = None
        self._on_error = on_error or _ignore
        self._on_state = on_state or _ignore
        self.errors = 0
        self.refused = 0  # calls not made because the breaker was open

    @property
    def available(self) -> bool:
        """False while the breaker is open or probing."""
        return self._breaker.state == "closed"

    def deadline(self, share: float = 1.0) -> Deadline:
        """The deadline of the next call (short while the store is suspect)."""
        scale = share * (SUSPECT_SHARE if self._breaker.suspect else 1.0)
        return Deadline(self.op_timeout * scale, self._op_limit * scale)

    async def run(self, name: str, call: Callable[[], Awaitable[T]], *, share: float = 1.0) -> T:
        """``await call()`` within the deadline (``share`` of it); StoreUnavailable when
        the breaker is open (``call`` is not made), on a timeout or on a store failure."""
        if self._breaker.state != "closed":
            if self._breaker.allow():  # open_for has passed: one probe, in the background
                self._probing = asyncio.get_running_loop().create_task(self._run_probe())
            self.refused += 1
            raise StoreUnavailable(f"budget store unavailable ({name}: circuit open)")
        try:
            async with self.deadline(share):
                result = await call()
        except (StoreUnavailable, TimeoutError) as exc:
            self.failed(name, exc)
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(f"budget store timed out ({name})") from exc
        except BaseException:  # cancelled, or a caller's bug (ValueError): no verdict
            self._breaker.abandon()
            raise
        self.succeeded()
        return result

    async def _run_probe(self) -> None:
        try:
            async with Deadline(self.op_timeout, self._op_limit):
                up = await self._probe()
        except (StoreUnavailable, TimeoutError, OSError) as exc:
            self.failed("probe", exc)
            return
        except BaseException:
            self._breaker.abandon()
            raise
        if up:
            self.succeeded()
        else:
            self.failed("probe", StoreUnavailable("the store did not answer PING"))

    async def close(self) -> None:
        """Cancel a probe still running."""
        task, self._probing = self._probing, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def succeeded(self) -> None:
        if self._breaker.success():
            self._on_state(True)

    def failed(self, name: str, error: BaseException) -> None:
        self.errors += 1
        self._on_error(name, error)
        if self._breaker.failure():
            self._on_state(False)
