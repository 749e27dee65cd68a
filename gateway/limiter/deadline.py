"""A timeout that does not count the event loop's own lateness.

``asyncio.timeout(0.25)`` around a Redis call also expires when Redis answered in
microseconds but the loop was busy with other requests (a burst of a hundred requests on a
loaded machine delays callbacks by hundreds of milliseconds): the reply sits unread while
the timer fires. :class:`Deadline` fires like ``asyncio.timeout`` when the loop is on time,
and when its timer runs late it waits once more for as long as the loop was late, so a
reply that already arrived is read first. ``limit`` bounds the total wait either way.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

_GRACE = 0.005  # later than this, the loop (or this process) was busy, not Redis


class Deadline:
    """``async with Deadline(seconds, limit):`` raises :class:`TimeoutError` like
    ``asyncio.timeout(seconds)``, extended by the loop's lateness up to ``limit`` seconds."""

    __slots__ = (
        "_cancelling",
        "_expired",
        "_handle",
        "_limit",
        "_loop",
        "_seconds",
        "_start",
        "_task",
        "_when",
        "extended",
    )

    def __init__(self, seconds: float, limit: float | None = None) -> None:
        self._seconds = seconds
        self._limit = max(seconds, limit if limit is not None else seconds)
        self._expired = False
        self.extended = 0  # times the deadline moved because the loop ran late

    async def __aenter__(self) -> Deadline:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadline must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._start = self._loop.time()
        self._when = self._start + self._seconds
        self._handle = self._loop.call_at(self._when, self._fire)
        return self

    def _fire(self) -> None:
        now = self._loop.time()
        late = now - self._when
        if late > _GRACE and now - self._start < self._limit:
            self.extended += 1
            self._when = min(now + late, self._start + self._limit)
            self._handle = self._loop.call_at(self._when, self._fire)
            return
        self._expired = True
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._handle.cancel()
        expired_here = self._expired and self._task.uncancel() <= self._cancelling
        if expired_here and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
