"""A bounded background queue for off-path work (detection, account linking): the proxy
submits observations without awaiting them.

One task drains the queue in batches: it takes what is queued (up to ``max_batch``, after
waiting up to ``linger`` seconds for more to arrive) and hands the items to the batch
handler at once, so a batch costs a few store round trips whatever its size. A zero-argument
coroutine factory may be queued too; it runs on its own, in queue order.

On overflow an item is dropped and counted (off-path work is best effort; the hot path never
waits for it). Failures are counted per item (and reported to ``on_failure``), never
propagated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

T = TypeVar("T")
Job = Callable[[], Awaitable[object]]


@dataclass(slots=True)
class WorkerStats:
    submitted: int = 0
    processed: int = 0
    dropped: int = 0
    failed: int = 0
    batches: int = 0


async def _no_handler(items: Sequence[object]) -> None:
    raise TypeError("this worker has no batch handler")


class BackgroundWorker(Generic[T]):
    """One task draining one bounded queue of items (batched) and jobs (one by one)."""

    def __init__(
        self,
        handler: Callable[[Sequence[T]], Awaitable[object]] | None = None,
        *,
        maxsize: int = 10_000,
        max_batch: int = 256,
        linger: float = 0.02,
        name: str = "detection",
        on_failure: Callable[[int], None] | None = None,
    ) -> None:
        self._handler = handler or _no_handler
        self._queue: asyncio.Queue[T | Job] = asyncio.Queue(maxsize=maxsize)
        self._max_batch = max_batch
        self._linger = linger
        self._hurry = asyncio.Event()  # someone waits (drain, stop): no lingering
        self._task: asyncio.Task[None] | None = None
        self.stats = WorkerStats()
        self._name = name
        self._on_failure = on_failure
        self._log = structlog.get_logger(f"gateway.{name}.worker")

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, item: T | Job) -> bool:
        """Queue ``item``; False (and counted as dropped) when the queue is full."""
        if self._task is None:
            self.start()
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.dropped += 1
            return False
        self.stats.submitted += 1
        return True

    def start(self) -> None:
        """Start the drain task (needs a running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Wait until every queued item has been processed."""
        self._hurry.set()
        try:
            await self._queue.join()
        finally:
            self._hurry.clear()

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the queued items (up to ``grace`` seconds), then stop the task."""
        if self._task is None:
            return
        self._hurry.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._hurry.clear()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if self._linger > 0 and self._queue.qsize() < self._max_batch - 1:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger):
                        await self._hurry.wait()
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._process(batch)

    async def _process(self, batch: list[T | Job]) -> None:
        items: list[T] = []
        for entry in batch:
            if callable(entry):
                await self._flush(items)
                items = []
                await self._guarded([entry], entry)
            else:
                items.append(entry)
        await self._flush(items)

    async def _flush(self, items: list[T]) -> None:
        if items:
            self.stats.batches += 1
            await self._guarded(items, lambda: self._handler(items))

    async def _guarded(self, entries: Sequence[object], work: Job) -> None:
        try:
            await work()
            self.stats.processed += len(entries)
        except Exception as exc:  # off-path work must never take the gateway down
            self.stats.failed += len(entries)
            if self._on_failure is not None:
                self._on_failure(len(entries))
            self._log.warning(
                f"{self._name}_job_failed", error=type(exc).__name__, items=len(entries)
            )
        finally:
            for _ in entries:
                self._queue.task_done()
