"""structlog, configured once at start-up: one JSON line per event with fixed keys.

Request lines carry request_id, account, cluster, decision and reason. Prompt text is never
logged, nor are credentials: the request logger only receives values picked one by one.

Cheap enough for one line per request: the timestamp reuses its per-second prefix, the JSON
encoder is built once, and lines are written to a buffered stream that is flushed at once
for warnings and errors, else within ``FLUSH_INTERVAL`` (one write per burst of request
lines instead of one per line), and at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import threading
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
FLUSH_INTERVAL = 0.25  # seconds an info line may wait in the buffer
_BUFFER_LIMIT = 64 * 1024  # characters: flush earlier than that


class IsoTimestamp:
    """``timestamp``: UTC ISO 8601 with microseconds (``2026-01-02T03:04:05.678901Z``);
    the date-and-seconds prefix is formatted once per second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(
        self, logger: object, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        now = time.time()  # a log timestamp decides nothing
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        event["timestamp"] = f"{self._prefix}.{int((now - second) * 1e6):06d}Z"
        return event


class BufferedLines:
    """A structlog logger writing lines to ``stream`` with few write calls (see above)."""

    def __init__(self, stream: TextIO, interval: float = FLUSH_INTERVAL) -> None:
        self._stream = stream
        self._interval = interval
        self._pending: list[str] = []
        self._size = 0
        self._due = 0.0  # monotonic time the oldest pending line must be out by
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._pending:
                return
            text, self._pending, self._size = "".join(self._pending), [], 0
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed stream at exit: nothing to do
            pass

    def _write(self, message: str, urgent: bool) -> None:
        with self._lock:
            now = time.monotonic()
            if not self._pending:
                self._due = now + self._interval
            self._pending.append(message + "\n")
            self._size += len(message) + 1
            later = not urgent and self._size < _BUFFER_LIMIT and now < self._due
            if later:
                later = self._arm()
        if not later:
            self.flush()

    def _arm(self) -> bool:
        """A timer on the running loop flushes what is pending; False without a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self._timer is None or self._timer_loop is not loop:
            self._timer = loop.call_later(self._interval, self.flush)
            self._timer_loop = loop
        return True

    def info(self, message: str) -> None:
        self._write(message, False)

    debug = info

    def warning(self, message: str) -> None:
        self._write(message, True)

    error = critical = exception = fatal = warn = msg = failure = err = warning


def processors(fmt: str = "json") -> list[structlog.types.Processor]:
    """The processor chain of every log line, ending with the ``fmt`` renderer (tests that
    capture the gateway's output render it exactly as production does)."""
    encoder = json.JSONEncoder(separators=(", ", ": "), default=repr)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=lambda obj, **_: encoder.encode(obj))
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        IsoTimestamp(),
        structlog.processors.format_exc_info,
        renderer,
    ]


def configure_logging(fmt: str = "json", level: str = "info") -> None:
    lines = BufferedLines(sys.stdout)
    structlog.configure(
        processors=processors(fmt),
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=lambda *_: lines,
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=_LEVELS.get(level, logging.INFO),
        stream=sys.stderr,
        format="%(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
