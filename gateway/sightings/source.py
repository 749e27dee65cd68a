"""What a worker reads: stream entries, and the in-process stream of the memory store.

A :class:`SightingSource` hands out batches of :class:`Entry` (an encoded sighting and its
stable id ``<shard>:<stream id>``), takes them back as acknowledged once applied, and claims
entries a dead consumer left pending. :class:`MemoryStream` is both ends in one process (the
memory store: ``make demo``, tests): a bounded queue that, like ``MAXLEN ~``, drops its
oldest entries when the worker falls behind (counted as trimmed), and wakes the worker when
something arrives.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.observability.metrics import Metrics
from gateway.sightings.metrics import DetectMetrics


@dataclass(frozen=True, slots=True)
class Entry:
    id: str  # "<shard>:<stream id>": stable, the apply side's idempotency key
    shard: int
    stream_id: str
    data: bytes  # the encoded sighting (gateway.sightings.codec)


class SightingSource(Protocol):
    consumer: str

    async def start(self) -> None: ...

    async def read(self) -> list[Entry]: ...

    def more(self) -> bool:
        """The last read stopped at its count: more entries are waiting."""
        ...

    async def claim(self) -> list[Entry]: ...

    async def ack(self, entries: Sequence[Entry]) -> None: ...

    async def wait(self, seconds: float) -> None: ...

    async def pending(self) -> int: ...

    def settled(self) -> bool:
        """True only when nothing is unread and nothing unacknowledged (False: don't know)."""
        ...


class MemoryStream:
    """Sink and source in one process (one consumer: nothing to claim)."""

    consumer = "in-process"

    def __init__(
        self, metrics: Metrics, detect: DetectMetrics, *, maxlen: int, batch: int = 256
    ) -> None:
        self._queue: collections.deque[Entry] = collections.deque()
        self._maxlen = maxlen
        self._batch = batch
        self._metrics = metrics
        self._detect = detect
        self.detect_metrics = detect
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._delivered = 0  # read, not yet acknowledged
        self._trimmed = 0

    def append(self, route: str, data: bytes) -> None:
        if len(self._queue) >= self._maxlen:
            self._queue.popleft()
            self._trimmed += 1
            self._detect.trimmed.labels("0").set(self._trimmed)
        self._queue.append(Entry(f"0:{next(self._ids)}-0", 0, "", data))
        self._metrics.sightings_appended.inc()
        self._arrived.set()

    async def drain(self) -> None:
        """Appends are synchronous here: nothing is ever outstanding."""

    async def start(self) -> None:
        return None

    async def read(self) -> list[Entry]:
        count = min(self._batch, len(self._queue))
        batch = [self._queue.popleft() for _ in range(count)]
        self._delivered += count
        self._detect.stream_length.labels("0").set(len(self._queue))
        if not self._queue:
            self._arrived.clear()
        return batch

    def more(self) -> bool:
        return bool(self._queue)

    async def claim(self) -> list[Entry]:
        return []

    async def ack(self, entries: Sequence[Entry]) -> None:
        self._delivered -= len(entries)

    async def wait(self, seconds: float) -> None:
        if self._queue:
            return
        try:
            async with asyncio.timeout(seconds):
                await self._arrived.wait()
        except TimeoutError:
            return

    async def pending(self) -> int:
        return self._delivered + len(self._queue)

    def settled(self) -> bool:
        return not self._queue and not self._delivered
