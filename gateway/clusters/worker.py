"""Runs the linker off the request path: a bounded queue drained by one background task.

``submit`` never blocks and never raises: when the queue is full the observation is dropped
and counted. The task takes what is queued (up to ``max_batch``, after waiting up to
``linger`` seconds for more) and hands it to the linker as one batch: a few round trips per
batch, whatever its size. It also prunes expired evidence every ``prune_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.clock import Clock
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.linker import Linker, LinkerStats
from gateway.model import Identity

log = logging.getLogger(__name__)

_Item = tuple[Identity, int | None, float]


class LinkerWorker:
    def __init__(
        self,
        linker: Linker,
        graph: ClusterGraph,
        clock: Clock,
        *,
        maxsize: int = 10_000,
        prune_interval: float = 3600.0,
        max_batch: int = 256,
        linger: float = 0.05,
    ) -> None:
        self._linker = linker
        self._graph = graph
        self._clock = clock
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize)
        self._prune_interval = prune_interval
        self._next_prune = clock.now() + prune_interval
        self._task: asyncio.Task[None] | None = None
        self._max_batch = max_batch
        self._linger = linger
        self._hurry = asyncio.Event()  # someone waits (drain, stop): no lingering

    @property
    def stats(self) -> LinkerStats:
        return self._linker.stats

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, identity: Identity, template: int | None) -> bool:
        """Queue one request's signals; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait((identity, template, self._clock.now()))
        except asyncio.QueueFull:
            self._linker.stats.dropped += 1
            return False
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Wait until everything queued so far is processed (tests, shutdown)."""
        self._hurry.set()
        try:
            await self._queue.join()
        finally:
            self._hurry.clear()

    async def stop(self, grace: float = 5.0) -> None:
        """Process what is queued (up to ``grace`` seconds), then stop."""
        if self._task is None:
            return
        self._hurry.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._linger > 0 and self._queue.qsize() < self._max_batch - 1:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger):
                        await self._hurry.wait()
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._linker.observe_many(batch)
                if self._clock.now() >= self._next_prune:
                    self._next_prune = self._clock.now() + self._prune_interval
                    await self._graph.prune()
            except Exception:  # the worker must outlive any store hiccup
                self._linker.stats.errors += len(batch)
                log.warning("cluster linker failed", exc_info=True)
            finally:
                for _ in batch:
                    self._queue.task_done()
