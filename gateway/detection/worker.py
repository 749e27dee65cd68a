"""A bounded background queue: the proxy submits observations without awaiting them.

On overflow the job is dropped and counted (detection is best effort; the hot path never
waits for it). Failures are counted and never propagate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

Job = Callable[[], Awaitable[object]]


@dataclass(slots=True)
class WorkerStats:
    submitted: int = 0
    processed: int = 0
    dropped: int = 0
    failed: int = 0


class BackgroundWorker:
    """``concurrency`` tasks draining one bounded queue of zero-argument coroutine factories."""

    def __init__(self, maxsize: int = 10_000, concurrency: int = 2) -> None:
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=maxsize)
        self._concurrency = concurrency
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = WorkerStats()
        self._log = structlog.get_logger("gateway.detection.worker")

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (and counted as dropped) when the queue is full."""
        if not self._tasks:
            self.start()
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.stats.dropped += 1
            return False
        self.stats.submitted += 1
        return True

    def start(self) -> None:
        """Start the drain tasks (needs a running event loop)."""
        if not self._tasks:
            self._tasks = [
                asyncio.get_running_loop().create_task(self._run())
                for _ in range(self._concurrency)
            ]

    async def drain(self) -> None:
        """Wait until every queued job has run."""
        await self._queue.join()

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the queued jobs (up to ``grace`` seconds), then stop the tasks."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
                self.stats.processed += 1
            except Exception as exc:  # detection must never take the gateway down
                self.stats.failed += 1
                self._log.warning("detection_job_failed", error=type(exc).__name__)
            finally:
                self._queue.task_done()
