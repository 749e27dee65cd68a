"""Running the gateway: listeners, worker processes, signals, graceful shutdown."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

import structlog
from aiohttp import web

from gateway.app import build_admin_app, build_app
from gateway.clock import SystemClock
from gateway.gc_tuning import tune_for_serving
from gateway.http.protocol import EdgeOptions, EdgeRunner
from gateway.observability.logging import configure_logging
from gateway.observability.multiproc import ENV as METRICS_DIR_ENV
from gateway.observability.multiproc import WorkerMetricsDir, inherited_setting
from gateway.settings import Settings
from gateway.startup import StartupError, check_store, one_line, run_command, start_site
from gateway.state import state_of

log = structlog.get_logger("gateway.server")


def _install_uvloop() -> None:
    with suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def edge_options(settings: Settings, listener: str) -> EdgeOptions:
    return EdgeOptions(
        header_timeout=settings.client_header_timeout,
        body_timeout=settings.client_body_timeout,
        listener=listener,
    )


async def run_gateway(
    settings: Settings,
    *,
    worker: int = 0,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until ``stop`` is set (or SIGTERM/SIGINT). SIGHUP reloads the policy.

    A failure before serving is a :class:`StartupError` (one line), with everything
    started so far closed again; ``on_ready`` runs once both listeners are up."""
    runners: list[web.AppRunner] = []
    try:
        app = await _start_listeners(settings, worker, runners)
    except StartupError:
        await _cleanup(runners)
        raise
    except Exception as exc:  # anything else before serving is a start-up failure too
        log.debug("startup_failed", exc_info=exc)  # the traceback, at GATEWAY_LOG_LEVEL=debug
        await _cleanup(runners)
        raise StartupError(one_line(exc)) from None
    try:
        await _serve_until_stopped(app, settings, worker, stop, on_ready)
    finally:
        await _cleanup(runners)


async def _start_listeners(
    settings: Settings, worker: int, runners: list[web.AppRunner]
) -> web.Application:
    app = build_app(settings, clock=SystemClock())
    state = state_of(app)
    runner = EdgeRunner(app, edge_options(settings, "api"), access_log=None, handle_signals=False)
    runners.append(runner)
    await runner.setup()
    policy = state.holder.current.policy
    await check_store(state.backend.budgets, settings.store, policy.defaults.failure_mode)
    host, port = settings.listen_address
    site = web.TCPSite(runner, host, port, reuse_port=settings.workers > 1, backlog=4096)
    await start_site(site, "GATEWAY_LISTEN")
    admin = settings.admin_address
    if admin is not None:
        admin_runner = EdgeRunner(
            build_admin_app(state),
            edge_options(settings, "admin"),
            access_log=None,
            handle_signals=False,
        )
        runners.append(admin_runner)
        await admin_runner.setup()
        await start_site(
            web.TCPSite(admin_runner, admin[0], admin[1] + worker), "GATEWAY_ADMIN_LISTEN"
        )
    return app


async def _cleanup(runners: list[web.AppRunner]) -> None:
    for runner in reversed(runners):
        await runner.cleanup()


async def _serve_until_stopped(
    app: web.Application,
    settings: Settings,
    worker: int,
    stop: asyncio.Event | None,
    on_ready: Callable[[], None] | None,
) -> None:
    admin = settings.admin_address
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, state_of(app).reload_policy_soon)
    log.info(
        "gateway_started",
        listen=settings.listen,
        worker=worker,
        admin=f"{admin[0]}:{admin[1] + worker}" if admin else None,
        store=settings.store.split("@")[-1],
        upstream=settings.upstream,
        policy=state_of(app).policy_version(),
    )
    if on_ready is not None:
        on_ready()
    await stop.wait()
    log.info("gateway_stopping", worker=worker)


def _worker_main(settings: Settings, worker: int) -> int:
    configure_logging(settings.log_format, settings.log_level)
    _install_uvloop()
    return (
        run_command(
            lambda: run_gateway(settings, worker=worker, on_ready=tune_for_serving), asyncio.run
        )
        or 0
    )


def _worker_process(settings: Settings, worker: int) -> None:
    raise SystemExit(_worker_main(settings, worker))


def serve(settings: Settings) -> int:
    configure_logging(settings.log_format, settings.log_level)
    if settings.workers <= 1:
        if inherited_setting():
            log.error(
                "metrics_dir_preset",
                variable=METRICS_DIR_ENV,
                hint="unset it: serve --workers N (N > 1) creates and removes its own",
            )
            return 2
        return _worker_main(settings, 0)
    if settings.store.startswith("memory://"):
        log.warning(
            "memory_store_with_workers",
            workers=settings.workers,
            hint="each worker keeps its own budgets; use redis:// to share them",
        )
    if inherited_setting():
        log.warning(
            "metrics_dir_replaced",
            variable=METRICS_DIR_ENV,
            hint="serve --workers uses a private directory of its own; unset the variable",
        )
    with WorkerMetricsDir() as metrics_dir:
        return _run_workers(settings, metrics_dir)


def _run_workers(settings: Settings, metrics_dir: WorkerMetricsDir) -> int:
    """Start the workers (metrics shared through ``metrics_dir``), forward signals, wait."""
    ctx = multiprocessing.get_context("spawn")
    procs: list[BaseProcess] = [
        ctx.Process(target=_worker_process, args=(settings, i), daemon=False)
        for i in range(settings.workers)
    ]

    received: list[int] = []

    def _forward(signum: int, _frame: object) -> None:
        received.append(signum)
        for proc in procs:
            if proc.pid is not None:
                with suppress(ProcessLookupError):
                    os.kill(proc.pid, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _forward)
    with metrics_dir.exported():
        for proc in procs:
            proc.start()
    stops = [sig for sig in received if sig != signal.SIGHUP]
    if stops:  # a stop that came while workers were starting reaches all of them
        _forward(stops[-1], None)
    code = 0
    running = {proc.sentinel: proc for proc in procs}
    while running:
        for sentinel in wait(list(running)):
            proc = running.pop(sentinel)  # type: ignore[arg-type]
            proc.join()
            assert proc.pid is not None
            metrics_dir.worker_exited(proc.pid)
            if proc.exitcode not in (0, -signal.SIGTERM, -signal.SIGINT):
                log.error("worker_exited", pid=proc.pid, exitcode=proc.exitcode)
            code = code or (proc.exitcode or 0)
    return 1 if code and code not in (0, -signal.SIGTERM, -signal.SIGINT) else 0
