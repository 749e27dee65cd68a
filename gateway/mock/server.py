"""Running the mock upstream as a process (uvloop when available)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import structlog
from aiohttp import web

from gateway.mock.app import build_mock_app
from gateway.observability.logging import configure_logging
from gateway.startup import StartupError, run_command, start_site

log = structlog.get_logger("gateway.mock")


async def serve_mock(
    host: str, port: int, ready: asyncio.Event | None = None, **options: Any
) -> None:
    """Serve until cancelled or SIGINT/SIGTERM; ``options`` are :class:`MockConfig` fields."""
    app = build_mock_app(**options)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, backlog=1024)
    try:
        await start_site(site, "--listen")
    except StartupError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    log.info("mock_upstream_started", listen=f"{bound[0]}:{bound[1]}")
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


def run_mock(host: str = "127.0.0.1", port: int = 9100, **options: Any) -> int:
    """Run the mock in this process until SIGINT/SIGTERM (uvloop if installed); the exit
    code (a busy port is one line on stderr and a non-zero code)."""
    configure_logging("json", "info")
    run: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    return run_command(lambda: serve_mock(host, port, **options), run) or 0
