"""The composition root: builds every component once, from settings and policy, and wires
the pipeline. Nothing else constructs components; nothing reads globals.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from gateway.accounts.recorder import SeenRecorder
from gateway.accounts.seen import MemorySeen, RedisSeen
from gateway.admin.middleware import json_errors
from gateway.admin.routes import admin_routes
from gateway.auth.config import AuthSettings, build_authenticator
from gateway.challenges.gate import ChallengeGate
from gateway.challenges.tokens import ChallengeIssuer
from gateway.clock import Clock, SystemClock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.graph_redis import RedisClusterGraph
from gateway.clusters.hardness import HardLinks
from gateway.clusters.linker import Linker
from gateway.clusters.observations import MemoryObservations
from gateway.clusters.observations_redis import RedisObservations
from gateway.clusters.service import ClusterService
from gateway.detect_wiring import build_detect_worker as build_detect_worker  # re-exported
from gateway.detect_wiring import build_sink
from gateway.detection.degrade import degrade
from gateway.detection.engine import DetectionEngine
from gateway.detection.levels import LevelStore
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.types import Assessment
from gateway.errors import GatewayError
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.http.responses import error_response
from gateway.limiter.factory import build_backend
from gateway.limiter.store import BatchSettlement, BudgetStore
from gateway.observability.metrics import Metrics
from gateway.observability.tracing import Tracing
from gateway.policy.holder import PolicyHolder
from gateway.policy.watcher import PolicyWatcher
from gateway.proxy.decide import DecideStage
from gateway.proxy.forward import Forwarder
from gateway.proxy.inspect import DetectionPrints, InspectStage, cell_need
from gateway.proxy.pipeline import Pipeline
from gateway.proxy.planner import Planner
from gateway.proxy.settle import Settler
from gateway.proxy.stages import AuthenticateStage, ForwardStage, IdentifyStage, PathStage
from gateway.settings import Settings
from gateway.sightings.observer import SightingObserver, linking_reads
from gateway.startup import policy_source
from gateway.state import STATE, GatewayState

log = structlog.get_logger("gateway.app")


def _challenge_secret(settings: Settings) -> bytes:
    if settings.challenge_secret:
        secret = settings.challenge_secret.encode()
        return secret if len(secret) >= 32 else (secret * (32 // len(secret) + 1))[:64]
    log.warning(
        "challenge_secret_generated",
        hint="set GATEWAY_CHALLENGE_SECRET to the same value on every replica",
    )
    return secrets.token_bytes(32)


def _link_secret(settings: Settings) -> bytes:
    """The key of linking-evidence hashes; Settings requires one with a Redis store."""
    if settings.link_secret:  # hashed: every byte counts (BLAKE2b keys stop at 64 bytes)
        return hashlib.sha256(settings.link_secret.encode()).digest()
    log.info("link_secret_generated", hint="memory store: a random key for this process")
    return secrets.token_bytes(32)


def build_state(settings: Settings, clock: Clock | None = None) -> GatewayState:
    """Everything that needs no event loop. ``clock=None``: real time, and Redis scripts use
    the server's TIME; a given clock is used everywhere, Redis scripts included."""
    metrics = Metrics()
    holder = PolicyHolder.load(policy_source(settings))
    real_clock = clock or SystemClock()

    def failure_mode() -> Any:
        return holder.current.policy.defaults.failure_mode

    backend = build_backend(
        settings.store,
        clock=clock,
        prefix=settings.store_prefix,
        failure_mode=failure_mode,
        replicas=settings.replicas,
        settle_linger=settings.settle_linger_ms / 1000,
        timeout=settings.store_timeout_ms / 1000,
        on_error=lambda _op, _exc: metrics.store_errors.inc(),
        on_state=lambda closed: metrics.store_breaker_open.set(0 if closed else 1),
    )
    keys = backend.keys
    levels = _levels(backend.budgets)

    def clusters_policy() -> Any:
        return holder.current.policy.clusters

    def detection_policy() -> Any:
        return holder.current.policy.detection

    graph: ClusterGraph
    if backend.redis is not None:
        graph = RedisClusterGraph(backend.redis, real_clock, clusters_policy, keys)
        observations: Any = RedisObservations(backend.redis, keys)
        state_store: Any = RedisStateStore(backend.redis, keys)  # type: ignore[arg-type]
    else:
        graph = MemoryClusterGraph(real_clock, clusters_policy)
        observations = MemoryObservations()
        state_store = MemoryStateStore(real_clock)
    cache = ClusterCache(graph, real_clock, clusters_policy, guard=backend.guard)
    link_key = _link_secret(settings)
    linker = Linker(graph, observations, clusters_policy, real_clock, salt=link_key, cache=cache)

    def on_assessment(a: Assessment) -> None:
        if a.changed:
            metrics.levels.labels(a.entity.split(":", 1)[0], a.level.label).inc()

    detection = DetectionEngine(
        state_store,
        levels,
        keys,
        detection_policy,
        real_clock,
        on_assessment=on_assessment,
        hard_links=HardLinks(graph, real_clock, clusters_policy),
    )
    challenge_cfg = holder.current.policy.detection.challenge
    issuer = ChallengeIssuer(
        _challenge_secret(settings),
        real_clock,
        levels,
        keys,
        token_ttl=challenge_cfg.token_ttl,
        clearance_ttl=challenge_cfg.clearance,
    )
    sink, stream = build_sink(settings, backend, metrics)

    def wanted(identity: Any) -> bool:
        return detection.enabled_for(identity.tier) or linking_reads(clusters_policy(), identity)

    state = GatewayState(
        settings=settings,
        clock=real_clock,
        metrics=metrics,
        holder=holder,
        backend=backend,
        graph=graph,
        clusters=cache,
        cluster_service=ClusterService(graph, real_clock, cache),
        linker=linker,
        detection=detection,
        challenges=issuer,
        fingerprinter=Fingerprinter(),
        seen=RedisSeen(backend.redis, keys)
        if backend.redis is not None
        else MemorySeen(real_clock),
        sightings=SightingObserver(sink, link_key, wanted),
    )
    if stream is not None:
        state.detect = build_detect_worker(state, stream, stream.detect_metrics)
    return state


def build_pipeline(state: GatewayState) -> Pipeline:
    settings = state.settings
    assert state.session is not None and state.authenticator is not None
    store = state.backend.budgets
    tracing = state.tracing or Tracing()
    forwarder = Forwarder(
        state.session,
        settings.upstream,
        upstream_key=settings.upstream_api_key,
        route_prefix=settings.route_prefix,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        account_header=settings.forward_account_header,
    )
    decide = DecideStage(
        policy=state.policy,
        planner=Planner(state.backend.keys, shadow=settings.shadow),
        store=tracing.store(store),
        challenges=ChallengeGate(state.challenges, state.detection, state.metrics),
        degrade=degrade,
        metrics=state.metrics,
        leases=state.leases,
        shadow=settings.shadow,
    )
    settler = Settler(
        store,
        state.background,
        state.leases,
        observers=(state.sightings,),
        on_error=state.metrics.store_errors.inc,
        batcher=store if isinstance(store, BatchSettlement) else None,  # checked once, here
        describe=DetectionPrints(state.fingerprinter, state.policy),
    )
    stages = (
        PathStage(settings.route_prefix),
        AuthenticateStage(state.authenticator),
        InspectStage(
            state.fingerprinter,
            body_limit=settings.body_limit,
            route_prefix=settings.route_prefix,
            needs_cell=cell_need(state.policy),
        ),
        IdentifyStage(state.clusters, state.policy),
        decide,
        ForwardStage(forwarder),
    )
    return Pipeline(
        tracing.stages(stages),
        tracing.finalizer(SeenRecorder(settler, state.seen, state.clock, state.background)),
        clock=state.clock,
        metrics=state.metrics,
        policy_version=state.policy_version,
        policy_header=settings.policy_header,
    )


async def _start(app: web.Application) -> None:
    state = app[STATE]
    settings = state.settings
    connector = aiohttp.TCPConnector(
        limit=0, limit_per_host=0, keepalive_timeout=60, ttl_dns_cache=300
    )
    if state.tracing is None:
        state.tracing = Tracing.from_env()
    state.session = aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
        trace_configs=state.tracing.client_trace_configs() or None,
    )
    state.authenticator = build_authenticator(
        AuthSettings.from_mapping(settings.model_dump()), state.clock, session=state.session
    )
    state.pipeline = state.tracing.pipeline(build_pipeline(state))
    state.watcher = PolicyWatcher(
        state.holder,
        on_error=lambda _msgs: state.metrics.policy_reload_errors.inc(),
        on_reload=lambda _loaded: state.metrics.policy_reloads.inc(),
    )
    state.watcher.start()
    if state.detect is not None:  # the memory store: sightings are applied in-process
        state.detect.start()
    state.tasks.append(
        asyncio.get_running_loop().create_task(
            state.leases.refresh_forever(
                state.backend.budgets, lambda: state.holder.current.policy.defaults.lease_ttl
            )
        )
    )


async def _stop(app: web.Application) -> None:
    state = app[STATE]
    for task in state.tasks:
        task.cancel()
    if state.watcher is not None:
        await state.watcher.stop()
    await state.background.drain()
    await state.sightings.drain()  # appends queued on the store's connection leave first
    if state.detect is not None:  # the batch in hand is applied; in-process, nothing outlives
        await state.detect.stop()
    if state.authenticator is not None:
        await state.authenticator.close()
    if state.session is not None:
        await state.session.close()
    await state.backend.close()
    if state.tracing is not None:
        await state.tracing.shutdown()


def build_app(
    settings: Settings, clock: Clock | None = None, state: GatewayState | None = None
) -> web.Application:
    """The main listener: the proxied API plus /healthz and /readyz."""
    state = state or build_state(settings, clock)
    app = web.Application(client_max_size=settings.body_limit + 1024)
    app[STATE] = state

    async def proxy(request: web.Request) -> web.StreamResponse:
        pipeline = state.pipeline
        assert pipeline is not None
        return await pipeline.handle(request)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        store_ok = await state.backend.budgets.ping()
        state.metrics.store_available.set(1 if store_ok else 0)
        loaded = state.holder.current
        body = {
            "status": "ready" if store_ok else "degraded",
            "store": store_ok,
            "policy": loaded.version,
            "policy_errors": list(state.holder.last_errors),
            "failure_mode": loaded.policy.defaults.failure_mode,
        }
        ready = store_ok or loaded.policy.defaults.failure_mode == "open"
        return web.json_response(body, status=200 if ready else 503)

    async def not_found(request: web.Request) -> web.Response:
        return error_response(
            GatewayError(
                f"Unknown path {request.path}.",
                status=404,
                type="invalid_request_error",
                code="not_found",
            )
        )

    prefix = settings.route_prefix
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_route("*", prefix + "{tail:.*}", proxy)
    app.router.add_route("*", "/{tail:.*}", not_found)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    return app


def build_admin_app(state: GatewayState) -> web.Application:
    """The admin listener: /metrics and /admin/v1/... behind the admin bearer token."""
    app = web.Application(middlewares=[json_errors])
    app[STATE] = state
    app.router.add_routes(admin_routes(state))
    return app


def _levels(store: BudgetStore) -> LevelStore:
    """The store's detection levels and flags (every budget store keeps them), checked once."""
    if not isinstance(store, LevelStore):
        raise TypeError(f"{type(store).__name__} keeps no detection levels")
    return store
