"""The gateway's side of the sighting stream on Redis: ``XADD ... MAXLEN ~`` per served request,
fire-and-forget.

A sighting goes to one of ``shards`` streams (``keys.sightings(n)``, each with its own hash
tag), chosen by its account, so one account's sightings keep their order. On a plain Redis
the ``XADD`` is a deferred call on the budget store's shared connection
(:meth:`gateway.redis.mux.Multiplexer.defer_command`): it leaves in the same write as the
next budget check or settlement, and nobody awaits it. On a Redis Cluster (no multiplexer)
it is a tracked task of its own on the shared client. Either way the reply only counts:
``gateway_sightings_appended_total``, or ``gateway_sightings_dropped_total{reason}`` (``error``:
Redis refused or was unreachable; ``backlog``: more than ``max_outstanding`` appends still
unanswered, so a slow Redis never holds the gateway's memory).

``MAXLEN ~`` bounds each shard: when the workers fall behind, Redis trims the oldest entries
(workers count what they never read: ``gateway_detect_trimmed_total``). Requests are never
slowed by the stream.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import structlog

from gateway.observability.metrics import Metrics
from gateway.redis.client import RedisClient
from gateway.redis.keys import KeyBuilder
from gateway.redis.mux import Multiplexer

log = structlog.get_logger("gateway.sightings")
FIELD = b"s"  # the one field of a stream entry: the encoded sighting


def shard_of(route: str, shards: int) -> int:
    """The shard of an account (stable across processes and restarts)."""
    return zlib.crc32(route.encode("utf-8", "surrogatepass")) % shards


class RedisSink:
    """Appends encoded sightings to the sharded stream; never awaited by the request."""

    def __init__(
        self,
        client: RedisClient,
        mux: Multiplexer | None,
        keys: KeyBuilder,
        metrics: Metrics,
        *,
        shards: int,
        maxlen: int,
        max_outstanding: int = 10_000,
    ) -> None:
        self._client = client
        self._mux = mux
        self._streams = [keys.sightings(n).encode() for n in range(shards)]
        self._maxlen = str(maxlen).encode()
        self._metrics = metrics
        self._max_outstanding = max_outstanding
        self._outstanding: set[asyncio.Future[Any]] = set()
        self._errors_logged = 0

    def append(self, route: str, data: bytes) -> None:
        """Queue one ``XADD`` (sharded by ``route``, the account id); never blocks."""
        if len(self._outstanding) >= self._max_outstanding:
            self._metrics.sightings_dropped.labels("backlog").inc()
            return
        stream = self._streams[shard_of(route, len(self._streams))]
        command = (b"XADD", stream, b"MAXLEN", b"~", self._maxlen, b"*", FIELD, data)
        future: asyncio.Future[Any] | None = None
        if self._mux is not None:
            future = self._mux.defer_command(*command)
        if future is None:  # not connected yet in this loop, or a cluster: a task of its own
            future = asyncio.get_running_loop().create_task(self._send(command))
        self._outstanding.add(future)
        future.add_done_callback(self._done)

    async def _send(self, command: tuple[bytes, ...]) -> Any:
        if self._mux is not None:
            return await self._mux.execute(*command)
        return await self._client.execute_command(*command)

    def _done(self, future: asyncio.Future[Any]) -> None:
        self._outstanding.discard(future)
        if future.cancelled():
            self._metrics.sightings_dropped.labels("cancelled").inc()
            return
        error = future.exception()
        if error is None:
            self._metrics.sightings_appended.inc()
            return
        self._metrics.sightings_dropped.labels("error").inc()
        if self._errors_logged < 10 or self._errors_logged % 1000 == 0:
            log.warning("sighting_append_failed", error=type(error).__name__)
        self._errors_logged += 1

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    async def drain(self) -> None:
        """Wait until every append so far is answered (tests, shutdown before the store
        closes: nothing queued on the connection is lost)."""
        while self._outstanding:
            await asyncio.wait(list(self._outstanding))
