"""The composition root's part for the sighting stream and the workers that apply it.

:func:`build_sink` picks where the settle stage's sightings go: with a Redis store, the
sharded stream that ``gateway detect`` workers read (:class:`RedisSink`); with the memory
store, the in-process stream (:class:`MemoryStream`) that the same worker loop drains inside
the gateway. :func:`build_detect_worker` builds that loop on a process's state: its source
(the in-process stream, or the Redis stream as a named consumer), the apply step (detection
engine, then linker) and its pacing and claim settings.
"""

from __future__ import annotations

from gateway.limiter.factory import StoreBackend
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from gateway.sightings.apply import Applier
from gateway.sightings.metrics import DetectMetrics
from gateway.sightings.observer import SightingSink
from gateway.sightings.sink_redis import RedisSink
from gateway.sightings.source import MemoryStream, SightingSource
from gateway.sightings.source_redis import RedisSource
from gateway.sightings.worker import DetectWorker
from gateway.state import GatewayState


def build_sink(
    settings: Settings, backend: StoreBackend, metrics: Metrics
) -> tuple[SightingSink, MemoryStream | None]:
    """The sink of the settle stage's sightings, and the in-process stream when it is one."""
    if backend.redis is not None:  # appended here, applied by `gateway detect` workers
        sink = RedisSink(
            backend.redis,
            backend.mux,
            backend.keys,
            metrics,
            shards=settings.sighting_shards,
            maxlen=settings.sighting_maxlen,
        )
        return sink, None
    stream = MemoryStream(  # the same worker loop, in this process
        metrics, DetectMetrics(metrics.registry), maxlen=settings.sighting_maxlen
    )
    return stream, stream


def build_detect_worker(
    state: GatewayState,
    source: SightingSource | None = None,
    metrics: DetectMetrics | None = None,
    *,
    consumer: str = "",
) -> DetectWorker:
    """The worker loop that applies sightings to ``state``'s detection engine and linker:
    from ``source`` (the in-process stream), else from the Redis stream as ``consumer``."""
    metrics = metrics or DetectMetrics(state.metrics.registry)
    settings = state.settings
    if source is None:
        assert state.backend.redis is not None, "a Redis store (memory: the in-process stream)"
        source = RedisSource(
            state.backend.redis,
            state.backend.keys,
            metrics,
            shards=settings.sighting_shards,
            consumer=consumer,
            claim_idle=settings.detect_claim_idle,
        )
        linger = settings.detect_linger
    else:
        linger = 0.0  # in process (memory store): a queue, nothing to gain by waiting
    apply = Applier(state.detection, state.linker, state.graph, state.clock)
    claim_every = max(0.5, settings.detect_claim_idle / 3)
    return DetectWorker(
        source, apply, metrics, state.clock, claim_interval=claim_every, linger=linger
    )
