"""Every long-lived component of one gateway process, in one value: built by
:func:`gateway.app.build_state`, read by the admin API and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from gateway.accounts.seen import SeenStore
from gateway.auth.identity import Authenticator
from gateway.background.tasks import Background
from gateway.challenges.tokens import ChallengeIssuer
from gateway.clock import Clock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.linker import Linker
from gateway.clusters.service import ClusterService
from gateway.detection.engine import DetectionEngine
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.limiter.factory import StoreBackend
from gateway.observability.metrics import Metrics
from gateway.observability.tracing import Handles, Tracing
from gateway.policy.holder import PolicyHolder
from gateway.policy.loader import LoadedPolicy
from gateway.policy.watcher import PolicyWatcher
from gateway.proxy.settle import InFlightLeases
from gateway.settings import Settings
from gateway.sightings.observer import SightingObserver
from gateway.sightings.worker import DetectWorker


@dataclass
class GatewayState:
    """Every long-lived component of one gateway process."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    holder: PolicyHolder
    backend: StoreBackend
    graph: ClusterGraph
    clusters: ClusterCache
    cluster_service: ClusterService
    linker: Linker
    detection: DetectionEngine
    challenges: ChallengeIssuer
    fingerprinter: Fingerprinter
    seen: SeenStore
    sightings: SightingObserver  # the settle stage's hand-off to detection and linking
    detect: DetectWorker | None = None  # the in-process worker (memory store; tests)
    background: Background = field(default_factory=Background)
    leases: InFlightLeases = field(default_factory=InFlightLeases)
    watcher: PolicyWatcher | None = None
    session: aiohttp.ClientSession | None = None
    authenticator: Authenticator | None = None
    pipeline: Handles | None = None
    tracing: Tracing | None = None  # None: from the OTEL_* variables at start-up
    tasks: list[Any] = field(default_factory=list)

    def policy(self) -> LoadedPolicy:
        return self.holder.current

    def policy_version(self) -> str:
        return self.holder.current.version

    async def observations_applied(self) -> None:
        """Wait until every request finished so far is applied to detection and linking
        (tests; a process without a worker of its own only waits for its appends)."""
        await self.background.drain()
        await self.sightings.drain()
        if self.detect is not None:
            await self.detect.drain()

    def reload_policy_soon(self) -> None:
        if self.watcher is not None:
            self.watcher.on_sighup()


STATE = web.AppKey("gateway_state", GatewayState)


def state_of(app: web.Application) -> GatewayState:
    return app[STATE]
