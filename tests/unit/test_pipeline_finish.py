"""The pipeline's finishing work (settlement, log, the upstream usage read) runs after the
handler has returned its response, i.e. after aiohttp wrote it; the metrics count it before."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.clock import FakeClock
from gateway.observability.metrics import Metrics
from gateway.proxy.context import RequestContext
from gateway.proxy.pipeline import Pipeline
from gateway.proxy.usage import Usage

ANSWER = b'{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}'


class _Answer:
    name = "answer"

    async def run(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        ctx.upstream_status = 200
        ctx.upstream_body = ANSWER
        return web.Response(body=ANSWER)


class _Finalizer:
    def __init__(self) -> None:
        self.finished: list[RequestContext] = []

    def finish(self, ctx: RequestContext) -> None:
        self.finished.append(ctx)


async def test_finishing_waits_for_the_response_and_then_reads_the_usage() -> None:
    finalizer = _Finalizer()
    metrics = Metrics()
    pipeline = Pipeline(
        [_Answer()],
        finalizer,
        clock=FakeClock(),
        metrics=metrics,
        policy_version=lambda: "v1",
        policy_header=None,
    )
    response = await pipeline.handle(make_mocked_request("POST", "/v1/chat/completions"))
    assert response.status == 200
    assert finalizer.finished == []  # not before aiohttp has written the response
    # but counted before the client can see it (a scrape right after finds it)
    labels = {"status": "200", "decision": "none"}
    assert metrics.registry.get_sample_value("gateway_requests_total", labels) == 1.0
    await asyncio.sleep(0)
    assert len(finalizer.finished) == 1
    ctx = finalizer.finished[0]
    assert ctx.usage == Usage(7, 3)
    assert ctx.upstream_body is None  # read once
