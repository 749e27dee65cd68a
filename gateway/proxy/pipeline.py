"""The request path as an explicit list of stages.

``authenticate -> inspect (read body, fingerprint) -> identify -> decide -> forward``, then
``settle`` always runs, whatever happened (it releases concurrency slots, settles tokens,
feeds detection and linking off the hot path). For a response the pipeline returns, that
finishing work (settlement, the request log, the upstream usage read; the metrics are
counted before) runs just after aiohttp has written the response, in the next event-loop
iteration and before any data read after it (so a client's next request still finds its
settlement queued).
A stage either returns ``None`` (go on) or the response; a
:class:`~gateway.errors.GatewayError` ends the request with its error body.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

import structlog
from aiohttp import web

from gateway.clock import Clock
from gateway.errors import GatewayError
from gateway.http.quota_headers import quota_headers
from gateway.http.request_ids import REQUEST_ID_HEADER, RequestIds, client_request_id
from gateway.http.responses import error_response
from gateway.observability.metrics import Metrics
from gateway.proxy.context import RequestContext
from gateway.proxy.replay_fields import replay_fields

log = structlog.get_logger("gateway.request")


class Stage(Protocol):
    name: str

    async def run(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None: ...


class Finalizer(Protocol):
    def finish(self, ctx: RequestContext) -> None:
        """Called once per request after the response; must not block (schedule work)."""
        ...


class Pipeline:
    def __init__(
        self,
        stages: Sequence[Stage],
        finalizer: Finalizer,
        *,
        clock: Clock,
        metrics: Metrics,
        policy_version: PolicyVersion,
        policy_header: str | None,
    ) -> None:
        self.stages = tuple(stages)
        self._finalizer = finalizer
        self._clock = clock
        self._metrics = metrics
        self._policy_version = policy_version
        self._policy_header = policy_header
        self._ids = RequestIds()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ctx = RequestContext(
            request_id=self._ids.next(),
            started=time.perf_counter(),
            now=self._clock.now(),
            path=request.path,
            client_request_id=client_request_id(request.headers.get(REQUEST_ID_HEADER)),
        )
        echoed = ctx.echoed_id
        self._metrics.in_flight.inc()
        response: web.StreamResponse | None = None
        try:
            for stage in self.stages:
                response = await stage.run(request, ctx)
                if response is not None:
                    break
            if response is None:
                raise GatewayError("No stage answered the request.")
        except GatewayError as error:
            ctx.error_code = error.code
            headers = quota_headers(ctx.decision) if ctx.decision else {}
            if ctx.response_started:
                raise  # headers are gone; the forwarder already ended the stream
            response = error_response(error, echoed, headers)
        except asyncio.CancelledError:
            # the client went away and the server cancelled the handler: settle anyway
            ctx.client_disconnected = True
            ctx.status = 499
            self._finish(ctx, self._count(ctx))
            raise
        finally:
            self._metrics.in_flight.dec()
        ctx.status = response.status
        if not response.prepared:
            response.headers[REQUEST_ID_HEADER] = echoed
            if self._policy_header:
                response.headers[self._policy_header] = self._policy_version()
        # counted before the client can see the answer; the rest after the response is
        # written: aiohttp writes it when this handler returns, before the loop runs the
        # callbacks scheduled here
        asyncio.get_running_loop().call_soon(self._finish, ctx, self._count(ctx))
        return response

    def _count(self, ctx: RequestContext) -> float:
        """The request's metrics; its duration (seconds)."""
        elapsed = time.perf_counter() - ctx.started
        decision = ctx.decision
        action = decision.action if decision else "none"
        self._metrics.request_counter(ctx.status, action).inc()
        self._metrics.latency_for(action).observe(elapsed)
        if ctx.upstream_latency is not None:
            self._metrics.upstream_latency.observe(ctx.upstream_latency)
        return elapsed

    def _finish(self, ctx: RequestContext, elapsed: float) -> None:
        """The usage read, the finalizer (settlement, sightings) and the request log."""
        ctx.read_usage()
        try:
            self._finalizer.finish(ctx)
        finally:
            if log.is_enabled_for(logging.INFO):
                decision = ctx.decision
                self._log(ctx, decision.action if decision else "none", elapsed)

    def _log(self, ctx: RequestContext, action: str, elapsed: float) -> None:
        decision = ctx.decision
        log.info(
            "request",
            request_id=ctx.request_id,
            client_request_id=ctx.client_request_id,
            account=ctx.account or None,
            cluster=ctx.cluster_id or None,
            tier=ctx.tier or None,
            path=ctx.path,
            status=ctx.status,
            decision=action,
            reason=decision.reason if decision else ctx.error_code,
            level=decision.level.label if decision else None,
            shadow=list(decision.shadow_refusals)
            if decision and decision.shadow_refusals
            else None,
            degraded=list(ctx.degraded) or None,
            upstream_ms=round(ctx.upstream_latency * 1000, 2)
            if ctx.upstream_latency is not None
            else None,
            total_ms=round(elapsed * 1000, 2),
            disconnected=ctx.client_disconnected or None,
            policy=self._policy_version(),
            **replay_fields(ctx),
        )


class PolicyVersion(Protocol):
    def __call__(self) -> str: ...
