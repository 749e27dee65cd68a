"""The spans of the request path, wrapped around its parts only when tracing is on.

``gateway <METHOD>`` (server span; continues the client's W3C ``traceparent``) holds one
span per stage — ``gateway.authenticate``, ``gateway.inspect``, ``gateway.identify``,
``gateway.decide`` (with ``gateway.store.acquire``, its store round trip), ``gateway.forward``
(with the aiohttp client span of the upstream call) — and ``gateway.settle``.

Attributes are picked one by one from the request context: method, path (no query string),
status, account, tier, cluster, decision, the refusing budget, error codes. Never the body,
the prompt, a header value or a credential.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode

from gateway.errors import GatewayError

if TYPE_CHECKING:  # the request path's shapes only: spans wrap the stages app.py lists
    from gateway.observability.tracing import Handles
    from gateway.proxy.context import RequestContext
    from gateway.proxy.pipeline import Finalizer, Stage


def _context_attributes(span: Any, ctx: RequestContext) -> None:
    if ctx.identity is not None:
        span.set_attribute("gateway.account", ctx.account)
    if ctx.tier:
        span.set_attribute("gateway.tier", ctx.tier)
    if ctx.cluster_id:
        span.set_attribute("gateway.cluster", ctx.cluster_id)
    decision = ctx.decision
    if decision is not None:
        span.set_attribute("gateway.decision", decision.action)
        if decision.refused_by is not None:
            span.set_attribute("gateway.refused_by", decision.refused_by.budget.name)
    if ctx.upstream_status is not None:
        span.set_attribute("gateway.upstream_status", ctx.upstream_status)


def _failed(span: Any, error: BaseException) -> None:
    code = error.code if isinstance(error, GatewayError) else type(error).__name__
    span.set_attribute("gateway.error_code", str(code))
    span.set_status(Status(StatusCode.ERROR, str(code)))


class TracedPipeline:
    def __init__(self, pipeline: Handles, tracer: trace.Tracer) -> None:
        self._pipeline = pipeline
        self._tracer = tracer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        parent = extract(dict(request.headers))  # W3C traceparent/tracestate, nothing else
        with self._tracer.start_as_current_span(
            f"gateway {request.method}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "url.path": request.path},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            response = await self._pipeline.handle(request)
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response


class TracedStage:
    """A stage in a span named after it; the request's facts so far as attributes."""

    def __init__(self, stage: Stage, tracer: trace.Tracer) -> None:
        self._stage = stage
        self._tracer = tracer
        self.name = stage.name

    async def run(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        with self._tracer.start_as_current_span(
            f"gateway.{self.name}", record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                return await self._stage.run(request, ctx)
            except BaseException as error:
                _failed(span, error)
                raise
            finally:
                _context_attributes(span, ctx)


class TracedFinalizer:
    def __init__(self, finalizer: Finalizer, tracer: trace.Tracer) -> None:
        self._finalizer = finalizer
        self._tracer = tracer

    def finish(self, ctx: RequestContext) -> None:
        with self._tracer.start_as_current_span("gateway.settle") as span:
            span.set_attribute("gateway.status", ctx.status)
            self._finalizer.finish(ctx)


class TracedStore:
    """Delegates to the store; ``acquire`` (the decide stage's round trip) in a span."""

    def __init__(self, store: Any, tracer: trace.Tracer) -> None:
        self._store = store
        self._tracer = tracer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def acquire(self, request: Any) -> Any:
        with self._tracer.start_as_current_span(
            "gateway.store.acquire", kind=SpanKind.CLIENT
        ) as span:
            span.set_attribute("gateway.store", type(self._store).__name__)
            span.set_attribute("gateway.charges", len(request.charges))
            result = await self._store.acquire(request)
            span.set_attribute("gateway.allowed", bool(result.allowed))
            return result
