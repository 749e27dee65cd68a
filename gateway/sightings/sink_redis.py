"""The gateway's side of the sighting stream on Redis: ``XADD ... MAXLEN ~`` per served request,
fire-and-forget.

A sighting goes to one of ``shards`` streams (``keys.sightings(n)``, each with its own hash
tag), chosen by its account, so one account's sightings keep their order. On a plain Redis
the ``XADD`` is a deferred call on the budget store's shared connection
(:meth:`gateway.redis.mux.Multiplexer.defer_command`): it leaves in the same write as the
next budget check or settlement, and nobody awaits it. On a Redis Cluster (no multiplexer)
the appends of one event-loop tick leave at the end of the tick as one pipeline per shard,
sent one after the other per shard (an account's sightings keep their order there too).
Either way the reply only counts:
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
FIELD = "s"  # the one field of a stream entry: the encoded sighting


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
        self._streams = [keys.sightings(n) for n in range(shards)]
        self._maxlen = maxlen
        self._metrics = metrics
        self._max_outstanding = max_outstanding
        self._outstanding: set[asyncio.Future[Any]] = set()
        self._errors_logged = 0
        self._queued: dict[int, list[tuple[tuple[Any, ...], asyncio.Future[Any]]]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def append(self, route: str, data: bytes) -> None:
        """Queue one ``XADD`` (sharded by ``route``, the account id); never blocks."""
        if len(self._outstanding) >= self._max_outstanding:
            self._metrics.sightings_dropped.labels("backlog").inc()
            return
        shard = shard_of(route, len(self._streams))
        stream = self._streams[shard]
        command = ("XADD", stream, "MAXLEN", "~", self._maxlen, "*", FIELD, data)
        future: asyncio.Future[Any] | None = None
        if self._mux is None:
            future = self._queue(shard, command)
        else:
            future = self._mux.defer_command(*command)
            if future is None:  # not connected yet in this event loop: connect
                future = asyncio.get_running_loop().create_task(self._mux.execute(*command))
        self._outstanding.add(future)
        future.add_done_callback(self._done)

    def _queue(self, shard: int, command: tuple[Any, ...]) -> asyncio.Future[Any]:
        """A cluster: queued for the end of this tick (see :meth:`_flush`)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._flush)
        self._queued.setdefault(shard, []).append((command, future))
        return future

    def _flush(self) -> None:
        queued, self._queued = self._queued, {}
        loop = asyncio.get_running_loop()
        for shard, batch in queued.items():
            self._tasks.add(task := loop.create_task(self._send(shard, batch)))
            task.add_done_callback(self._tasks.discard)

    async def _send(
        self, shard: int, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]
    ) -> None:
        """One pipeline of one shard's appends; the shard's pipelines leave in turn."""
        async with self._locks.setdefault(shard, asyncio.Lock()):
            try:
                pipe = self._client.pipeline(transaction=False)
                for command, _ in batch:
                    pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
            except Exception as exc:  # counted per append by _done
                replies = [exc] * len(batch)
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, BaseException):
                future.set_exception(reply)
            else:
                future.set_result(reply)

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
