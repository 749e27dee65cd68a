"""Off-path work: tasks that must finish (settlement) but must not delay the response."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger("gateway.background")


class Background:
    """Tracks fire-and-forget tasks so that shutdown can wait for them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        self.track(asyncio.get_running_loop().create_task(work), what)

    def track(self, task: asyncio.Future[Any], what: str, *, quiet: bool = False) -> None:
        """Wait for ``task`` (a task or a plain future) at shutdown; log its failure unless
        ``quiet`` (the owner handles it)."""
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what, quiet))

    def _done(self, task: asyncio.Future[Any], what: str, quiet: bool = False) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not quiet:
            log.warning("background_failed", what=what, error=repr(task.exception()))

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
