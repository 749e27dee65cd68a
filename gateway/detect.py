"""``gateway detect``: a worker process that applies the gateway's sightings.

Same settings as ``gateway serve`` (it builds the same components: detection engine, linker,
level keys, the policy and its reloads), a Redis store only (with ``memory://`` the gateway
applies its sightings in-process). It reads the sighting stream as consumer ``<host>-<pid>``
of the ``detect`` group (:mod:`gateway.sightings.source_redis`), applies batches and
acknowledges them; entries a dead worker left pending are claimed after
``GATEWAY_DETECT_CLAIM_IDLE`` seconds. Run as many as the load needs (see README, deployment):
they share the stream, each taking what it reads.

``/metrics`` (Prometheus: the ``gateway_detect_*`` family, level changes, process CPU) and
``/healthz`` listen on ``GATEWAY_DETECT_LISTEN`` (default ``0.0.0.0:9464``).
SIGTERM/SIGINT: the batch in hand is applied and acknowledged, then the process exits. SIGHUP
reloads the policy.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Callable
from contextlib import suppress

import structlog
from aiohttp import web
from prometheus_client import ProcessCollector

from gateway.app import build_state
from gateway.clock import SystemClock
from gateway.detect_wiring import build_detect_worker
from gateway.gc_tuning import tune_for_serving
from gateway.observability.logging import configure_logging
from gateway.policy.watcher import PolicyWatcher
from gateway.settings import Settings
from gateway.startup import StartupError, check_store, run_command, start_site
from gateway.state import GatewayState

log = structlog.get_logger("gateway.detect")


def consumer_name() -> str:
    """This process's name in the consumer group: host and pid (unique while it lives)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _app(state: GatewayState, consumer: str) -> web.Application:
    app = web.Application()

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=state.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"}
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "consumer": consumer})

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    return app


async def run_detect(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Apply sightings until ``stop`` is set (or SIGTERM/SIGINT); ``on_ready`` runs once the
    worker is set up (the CLI tunes the garbage collector there, see ``gc_tuning``)."""
    if settings.store.startswith("memory://"):
        raise StartupError(
            "gateway detect needs a Redis store (GATEWAY_STORE); with memory:// the gateway "
            "applies its sightings in-process"
        )
    state = build_state(settings, SystemClock())
    ProcessCollector(registry=state.metrics.registry)
    consumer = consumer_name()
    worker = build_detect_worker(state, consumer=consumer)
    watcher = PolicyWatcher(state.holder)
    runner = web.AppRunner(_app(state, consumer), access_log=None, handle_signals=False)
    await runner.setup()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, watcher.on_sighup)
    try:
        host, port = settings.detect_address
        await start_site(web.TCPSite(runner, host, port), "GATEWAY_DETECT_LISTEN")
        await check_store(state.backend.budgets, settings.store, "open")
        watcher.start()
        if on_ready is not None:
            on_ready()
        log.info(
            "detect_started", consumer=consumer, listen=runner.addresses, store=_where(settings)
        )
        await worker.run(stop)
        log.info("detect_stopping", consumer=consumer, applied=worker.applied)
    finally:
        await watcher.stop()
        await runner.cleanup()
        await state.backend.close()


def _where(settings: Settings) -> str:
    return settings.store.split("@")[-1]  # never the password


def detect(settings: Settings) -> int:
    configure_logging(settings.log_format, settings.log_level)
    with suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return run_command(lambda: run_detect(settings, on_ready=tune_for_serving), asyncio.run) or 0
