"""Runs the linker off the request path: a bounded queue drained by one background task.

``submit`` never blocks and never raises: when the queue is full the observation is dropped
and counted. The task takes what is queued (up to ``max_batch``, after waiting up to
``linger`` seconds for more) and hands it to the linker as one batch: a few round trips per
batch, whatever its size. It also prunes expired evidence every ``prune_interval`` seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.background.batches import BackgroundWorker
from gateway.clock import Clock
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.linker import Linker, LinkerStats
from gateway.model import Identity

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
        self._prune_interval = prune_interval
        self._next_prune = clock.now() + prune_interval
        self._worker: BackgroundWorker[_Item] = BackgroundWorker(
            self.observe_many,
            maxsize=maxsize,
            max_batch=max_batch,
            linger=linger,
            name="clusters",
            on_failure=self._failed,
        )

    @property
    def stats(self) -> LinkerStats:
        return self._linker.stats

    @property
    def pending(self) -> int:
        return self._worker.pending

    def submit(self, identity: Identity, template: int | None) -> bool:
        """Queue one request's signals; False (and counted) when the queue is full."""
        accepted = self._worker.submit((identity, template, self._clock.now()))
        if not accepted:
            self._linker.stats.dropped += 1
        return accepted

    def start(self) -> None:
        self._worker.start()

    async def drain(self) -> None:
        """Wait until everything queued so far is processed (tests, shutdown)."""
        await self._worker.drain()

    async def stop(self, grace: float = 5.0) -> None:
        """Process what is queued (up to ``grace`` seconds), then stop."""
        await self._worker.stop(grace)

    async def observe_many(self, batch: Sequence[_Item], ids: Sequence[str] = ()) -> None:
        """Link a batch of ``(identity, template, now)`` at once (the queue's handler, and
        ``gateway detect``'s apply step: ``ids``, the sightings' stable ids, make a batch
        applied twice count once); prunes expired evidence when due."""
        await self._linker.observe_many(batch, ids)
        if self._clock.now() >= self._next_prune:
            self._next_prune = self._clock.now() + self._prune_interval
            await self._graph.prune()

    def _failed(self, items: int) -> None:
        self._linker.stats.errors += items
