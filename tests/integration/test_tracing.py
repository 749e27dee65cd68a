"""OpenTelemetry: spans of the request path (in-memory exporter), the W3C traceparent sent
upstream, no prompt or credential in any attribute, nothing wrapped when tracing is off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from gateway_harness import ADMIN_TOKEN, JWT_SECRET, UPSTREAM_KEY, running_gateway
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from structlog.testing import capture_logs

from gateway.observability.tracing import Tracing, requested_exporters
from gateway.proxy.pipeline import Pipeline

SECRET_PROMPT = "tell-me-the-launch-codes-7781"
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ()),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ("otlp",)),
        ({"OTEL_TRACES_EXPORTER": "console, otlp"}, ("console", "otlp")),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ()),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ("otlp",)),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, ()),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask(
    env: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert requested_exporters(env) == expected


def test_missing_packages_are_one_clear_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if not installed
    with capture_logs() as logs:
        tracing = Tracing.from_env({"OTEL_TRACES_EXPORTER": "otlp"})
    assert not tracing.enabled
    assert [(r["event"], r["log_level"]) for r in logs] == [("tracing_unavailable", "warning")]
    assert "distillguard[otel]" in logs[0]["hint"]


def test_off_wraps_nothing() -> None:
    tracing = Tracing.from_env({})
    stages: list[Any] = [object(), object()]
    store, finalizer, pipeline = object(), object(), object()
    assert not tracing.enabled
    assert list(tracing.stages(stages)) == stages
    assert tracing.store(store) is store
    assert tracing.finalizer(finalizer) is finalizer  # type: ignore[arg-type]
    assert tracing.pipeline(pipeline) is pipeline  # type: ignore[arg-type]
    assert tracing.client_trace_configs() == []


async def _upstream(seen: list[dict[str, str]]) -> TestServer:
    async def chat(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_request_path_spans_and_traceparent_upstream(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[dict[str, str]] = []
    upstream = await _upstream(seen)
    try:
        async with running_gateway(
            tmp_path, upstream=str(upstream.make_url("")).rstrip("/"), tracing=Tracing(provider)
        ) as gw:
            traceparent = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
            response = await gw.http.post(
                f"{gw.url}/v1/chat/completions?api_key=query-secret-5150",  # never in a span
                json={"model": "m", "messages": [{"role": "user", "content": SECRET_PROMPT}]},
                headers={**gw.auth("alice"), "traceparent": traceparent},
            )
            assert response.status == 200
            for _ in range(4):  # carol's tier allows 3: the 4th is refused
                refused = await gw.chat("carol", content=SECRET_PROMPT)
            assert refused.status == 429
            await gw.state.background.drain()
            api_keys = list(gw.keys.values())
    finally:
        await upstream.close()
    spans = exporter.get_finished_spans()
    first = [s for s in spans if s.context.trace_id == int(CLIENT_TRACE, 16)]
    names = {s.name for s in first}
    assert {
        "gateway POST",
        "gateway.authenticate",
        "gateway.inspect",
        "gateway.identify",
        "gateway.decide",
        "gateway.store.acquire",
        "gateway.forward",
        "gateway.settle",
    } <= names
    server = next(s for s in first if s.name == "gateway POST")
    assert server.parent is not None and server.parent.span_id == int(CLIENT_SPAN, 16)
    client = next(s for s in first if s.kind.name == "CLIENT" and s.name != "gateway.store.acquire")
    forward = next(s for s in first if s.name == "gateway.forward")
    assert client.parent is not None and client.parent.span_id == forward.context.span_id
    # the upstream got the gateway's client span as its parent, in the same trace
    sent = seen[0]["traceparent"].split("-")
    assert sent[1] == CLIENT_TRACE and int(sent[2], 16) == client.context.span_id
    decide = [s for s in spans if s.name == "gateway.decide"]
    assert {s.attributes.get("gateway.decision") for s in decide} == {"allow", "refuse"}
    assert any(s.attributes.get("gateway.refused_by") == "account:requests" for s in decide)
    secrets = [SECRET_PROMPT, UPSTREAM_KEY, ADMIN_TOKEN, JWT_SECRET, "query-secret-5150", *api_keys]
    for span in spans:
        for key, value in (span.attributes or {}).items():
            for secret in secrets:
                assert secret not in str(value), f"{span.name} {key} carries a secret"


async def test_untraced_gateway_runs_the_bare_pipeline(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        assert isinstance(gw.state.pipeline, Pipeline)
        assert (await gw.chat("alice")).status == 200
