"""The one table from Redis client errors to the gateway's own store errors.

Every store on Redis (budgets, cluster graph, observations, detection state, accounts seen)
raises :class:`~gateway.store_errors.StoreUnavailable` (or its :class:`ScriptMissing`) and
nothing from redis-py, hiredis or the socket layer: callers above the store layer catch only
the gateway's names. The first matching row wins, so more specific errors come first.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import hiredis
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from gateway.store_errors import ScriptMissing, StoreUnavailable

ERROR_TABLE: tuple[tuple[type[BaseException], type[StoreUnavailable]], ...] = (
    (NoScriptError, ScriptMissing),
    (RedisError, StoreUnavailable),  # connection, timeout, response, cluster-down errors
    (RedisClusterException, StoreUnavailable),  # no node, no slot, cross-slot
    (hiredis.HiredisError, StoreUnavailable),  # a reply the parser cannot read
    (OSError, StoreUnavailable),  # sockets; the multiplexer's ConnectionError
    (TimeoutError, StoreUnavailable),  # asyncio.timeout around a call
)
P = ParamSpec("P")
R = TypeVar("R")

FAILURES: tuple[type[BaseException], ...] = tuple(source for source, _ in ERROR_TABLE)
"""Everything the table maps (for ``except FAILURES``)."""


def store_error(error: BaseException, what: str = "") -> StoreUnavailable:
    """The gateway's error for ``error`` (a :data:`FAILURES` instance); ``what`` names the
    store in the message. Errors that are already the gateway's own are kept."""
    if isinstance(error, StoreUnavailable):
        return error
    target = next((to for source, to in ERROR_TABLE if isinstance(error, source)), None)
    if target is None:
        raise TypeError(f"not a store error: {type(error).__name__}") from error
    detail = f"{type(error).__name__}: {error}"
    return target(f"{what}: {detail}" if what else detail)


@contextmanager
def translated(what: str = "") -> Iterator[None]:
    """Re-raise any :data:`FAILURES` inside the block as the gateway's store error."""
    try:
        yield
    except FAILURES as exc:
        raise store_error(exc, what) from exc


def translating(what: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """:func:`translated` around every call of a store method (a decorator)."""

    def wrap(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(method)
        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with translated(what):
                return await method(*args, **kwargs)

        return call

    return wrap


def first_failure(replies: list[object], what: str = "") -> StoreUnavailable | None:
    """The gateway's error for the first error among pipeline replies (errors in place)."""
    for reply in replies:
        if isinstance(reply, FAILURES):
            return store_error(reply, what)
    return None
