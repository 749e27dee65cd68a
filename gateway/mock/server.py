"""Running the mock upstream as a process (uvloop when available)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from aiohttp import web

from gateway.mock.app import build_mock_app


async def serve_mock(
    host: str, port: int, ready: asyncio.Event | None = None, **options: Any
) -> None:
    """Serve until cancelled or SIGINT/SIGTERM; ``options`` are :class:`MockConfig` fields."""
    app = build_mock_app(**options)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, backlog=1024)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run_mock(host: str = "127.0.0.1", port: int = 9100, **options: Any) -> None:
    """Run the mock in this process until SIGINT/SIGTERM (uvloop if installed)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve_mock(host, port, **options))
    else:
        uvloop.run(serve_mock(host, port, **options))
