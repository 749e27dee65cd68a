"""Redis connections that encode commands with hiredis (C) instead of Python.

``redis.asyncio`` packs every command argument by argument in Python (~18 µs for a budget
script call with a dozen keys); ``hiredis.pack_command`` gives the same bytes in ~1.5 µs.
Without hiredis the stock connection classes are used.

``redis.asyncio`` also arms an asyncio timer (``socket_timeout``) around every reply it
reads, a pipeline's replies one by one: for a worker's batch of hundreds of script calls
that was ~15 % of its CPU. Inside :func:`caller_deadline` these connections read without a
timer of their own: the caller bounds the whole exchange with one deadline instead
(:func:`gateway.redis.batch.run_batch`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack

    _pack = _hiredis_pack
except ImportError:  # pragma: no cover - hiredis ships with redis[hiredis]
    _pack = None


def _split_name(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``"CONFIG GET"`` is two protocol arguments (as redis-py's own packer does)."""
    first = args[0]
    if isinstance(first, str):
        return tuple(first.encode().split()) + args[1:]
    if isinstance(first, bytes) and b" " in first:
        return tuple(first.split()) + args[1:]
    return args


_CALLER_DEADLINE: ContextVar[bool] = ContextVar("dg_redis_caller_deadline", default=False)


@contextmanager
def caller_deadline() -> Iterator[None]:
    """Inside (this task only): reads on these connections arm no timer of their own; the
    caller must bound the block itself (``asyncio.timeout``)."""
    token = _CALLER_DEADLINE.set(True)
    try:
        yield
    finally:
        _CALLER_DEADLINE.reset(token)


class _HiredisPacking(AbstractConnection):
    def pack_command(self, *args: Any) -> list[bytes]:
        assert _pack is not None
        return [_pack(_split_name(args))]

    async def read_response(
        self,
        disable_decoding: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - redis-py's signature
        **kwargs: Any,
    ) -> Any:
        if timeout is None and _CALLER_DEADLINE.get():
            timeout = math.inf  # redis-py: no timer (the caller's deadline holds)
        return await super().read_response(disable_decoding, timeout, **kwargs)


class PackingConnection(_HiredisPacking, Connection):
    pass


class PackingSSLConnection(_HiredisPacking, SSLConnection):
    pass


class PackingUnixConnection(_HiredisPacking, UnixDomainSocketConnection):
    pass


def connection_class(scheme: str) -> type[AbstractConnection] | None:
    """The packing connection class for a ``redis://``, ``rediss://`` or ``unix://`` URL
    (None: keep redis-py's choice)."""
    if _pack is None:
        return None
    return {
        "redis": PackingConnection,
        "rediss": PackingSSLConnection,
        "unix": PackingUnixConnection,
    }.get(scheme)
