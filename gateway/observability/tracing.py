"""OpenTelemetry traces of the request path: off by default, on with the standard variables.

Tracing is on when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``), or,
with it unset, when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
is set; ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` turn it off. The SDK reads
the rest itself (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
the exporter's endpoint, headers and timeout). ``otlp`` is OTLP over HTTP/protobuf.

The packages are the optional extra ``otel`` (``pip install 'distillguard[otel]'``); when the
variables ask for tracing without them, one warning says so and the gateway runs untraced.
Off, nothing is wrapped: the request path does not pay for tracing (see :mod:`.spans`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import structlog
from aiohttp import web
from yarl import URL

if TYPE_CHECKING:  # the stage shapes only: tracing wraps whatever stages app.py lists
    from gateway.proxy.pipeline import Finalizer, Stage

log = structlog.get_logger("gateway.tracing")

SERVICE_NAME = "distillguard"


class Handles(Protocol):
    """What serves a proxied request: the pipeline, or the pipeline in a server span."""

    async def handle(self, request: web.Request) -> web.StreamResponse: ...


INSTRUMENTATION = "gateway"


def requested_exporters(env: Mapping[str, str]) -> tuple[str, ...]:
    """The span exporters the standard variables ask for; () when tracing is off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ()
    named = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    named = [n for n in named if n]
    if named:
        return tuple(n for n in named if n != "none")
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return ("otlp",)
    return ()


def _exporter(name: str) -> Any:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    raise ValueError(f"unsupported OTEL_TRACES_EXPORTER {name!r} (use otlp or console)")


def _provider(exporters: Sequence[str], env: Mapping[str, str]) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {} if env.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    return provider


def _upstream_url(url: URL) -> str:
    """The upstream URL as a span shows it: no credentials, no query string."""
    return str(url.with_user(None).with_query(None))


class Tracing:
    """The request path's tracer, or nothing. Built once per process, at start-up."""

    def __init__(self, provider: Any | None = None) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer(INSTRUMENTATION) if provider is not None else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Tracing:
        env = os.environ if env is None else env
        exporters = requested_exporters(env)
        if not exporters:
            return cls()
        try:
            provider = _provider(exporters, env)
        except ImportError as exc:
            log.warning(
                "tracing_unavailable",
                exporters=list(exporters),
                missing=exc.name,
                hint="OTEL_* variables ask for traces: pip install 'distillguard[otel]'",
            )
            return cls()
        except ValueError as exc:
            log.warning("tracing_unavailable", error=str(exc))
            return cls()
        log.info("tracing_on", exporters=list(exporters))
        return cls(provider)

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def pipeline(self, pipeline: Handles) -> Handles:
        """The server span around each request (W3C ``traceparent`` continued)."""
        if self._tracer is None:
            return pipeline
        from gateway.observability.spans import TracedPipeline

        return TracedPipeline(pipeline, self._tracer)

    def stages(self, stages: Sequence[Stage]) -> tuple[Stage, ...]:
        if self._tracer is None:
            return tuple(stages)
        from gateway.observability.spans import TracedStage

        return tuple(TracedStage(stage, self._tracer) for stage in stages)

    def finalizer(self, finalizer: Finalizer) -> Finalizer:
        if self._tracer is None:
            return finalizer
        from gateway.observability.spans import TracedFinalizer

        return TracedFinalizer(finalizer, self._tracer)

    def store(self, store: Any) -> Any:
        """The decide stage's store: its one round trip (``acquire``) gets a span."""
        if self._tracer is None:
            return store
        from gateway.observability.spans import TracedStore

        return TracedStore(store, self._tracer)

    def client_trace_configs(self) -> list[aiohttp.TraceConfig]:
        """The aiohttp client instrumentation: a client span per upstream request, and the
        W3C ``traceparent`` of that span sent upstream."""
        if self._provider is None:
            return []
        from opentelemetry.instrumentation.aiohttp_client import create_trace_config

        return [create_trace_config(url_filter=_upstream_url, tracer_provider=self._provider)]

    async def shutdown(self) -> None:
        """Export what is buffered (in a thread: the exporter blocks)."""
        if self._provider is not None:
            await asyncio.to_thread(self._provider.shutdown)
