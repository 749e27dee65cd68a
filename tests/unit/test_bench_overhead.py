"""The overhead benchmark's pieces: minimal proxy, load generator, CPU accounting, report."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.mock import STATS_KEY, build_mock_app
from loadtest.bench_gateway import policy_document
from loadtest.bench_procs import cpu_seconds
from loadtest.bench_report import Result, render
from loadtest.loadgen import encode_bodies, generate, load_corpus
from loadtest.minimal_proxy import build_proxy_app

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture
async def mock() -> AsyncIterator[tuple[TestServer, web.Application]]:
    app = build_mock_app()
    server = TestServer(app)
    async with server:
        yield server, app


async def test_minimal_proxy_relays_answers_and_streams(
    mock: tuple[TestServer, web.Application],
) -> None:
    server, app = mock
    upstream = str(server.make_url("")).rstrip("/")
    async with TestClient(TestServer(build_proxy_app(upstream))) as client:
        async with client.post(
            "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer k"}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["object"] == "chat.completion"
        async with client.post("/v1/chat/completions", json=BODY | {"stream": True}) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            text = await resp.text()
        assert text.rstrip().endswith("data: [DONE]")
        async with client.post(
            "/v1/chat/completions", json=BODY, headers={"x-mock-status": "503"}
        ) as resp:
            assert resp.status == 503
    stats = app[STATS_KEY].snapshot()
    assert stats["endpoints"] == {"chat.completions": 3} and stats["streams"] == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_load_generator_counts_what_it_sends(
    mock: tuple[TestServer, web.Application], stream: bool
) -> None:
    server, app = mock
    bodies = encode_bodies(load_corpus("benign", 20), "gpt-4o-mini", 8, stream)
    url = str(server.make_url("/v1/chat/completions"))
    out = await generate(
        url, ["k1", "k2"], bodies, concurrency=4, requests=40, duration=20, stream=stream
    )
    assert out["requests"] == out["ok"] == 40 and out["statuses"] == {"200": 40}
    assert 0 < out["p50_ms"] <= out["p99_ms"]
    assert app[STATS_KEY].total == 40 and app[STATS_KEY].streams == (40 if stream else 0)


def test_cpu_seconds_reads_proc() -> None:
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(2_000_000))
    assert cpu_seconds(os.getpid()) > before


def test_policy_has_every_budget_kind_and_toggles_detection() -> None:
    from gateway.policy.schema import Policy

    on, off = (Policy.model_validate(policy_document(d)) for d in (True, False))
    assert on.detection.enabled and not off.detection.enabled
    tier = on.tiers["bench"]
    assert tier.requests and tier.tokens and tier.concurrency and tier.quotas
    assert on.models and on.clusters.budgets and on.global_
    # the issue's target set: account, cluster and model budgets and concurrency, no more
    issue = Policy.model_validate(policy_document(False, soft_links=False, every_kind=False))
    assert issue.tiers["bench"].concurrency and not issue.tiers["bench"].quotas
    assert issue.models and issue.clusters.budgets and not issue.global_
    assert not issue.clusters.link_on.soft and not issue.detection.enabled


def test_report_ratios_and_per_request_numbers() -> None:
    def result(name: str, rps: float, cpu: float | None, redis: dict[str, int] | None) -> Result:
        load = {
            "requests": 1000,
            "ok": 1000,
            "statuses": {"200": 1000},
            "rps": rps,
            "p50_ms": 1000 / rps,
            "p99_ms": 3000 / rps,
        }
        return Result(name, False, load, cpu, 0.1, redis)

    results = [
        result("mock upstream directly", 4000, None, None),
        result("minimal aiohttp proxy", 2000, 0.25, None),
        result("gateway (detection on)", 500, 1.5, {"evalsha": 2000, "get": 3000}),
        result("gateway (detection off)", 1000, 1.0, {"evalsha": 1000}),
        result("gateway (budgets only)", 1100, 0.4, {"evalsha": 1000}),
    ]
    results[-1].redis_reads = 300
    gateway = results[2]
    assert gateway.per_request_us(gateway.proxy_cpu_s) == pytest.approx(1500)
    assert gateway.redis_per_request() == 5.0
    assert gateway.redis_per_request(("evalsha",)) == 2.0
    table = render(results)
    assert "detection on / minimal       req/s   x0.25" in table
    assert "budgets only / minimal       req/s   x0.55" in table
    assert "0.55, 0.30 round trips/req: met" in table
    assert "minimal proxy / direct       req/s   x0.50" in table
    assert "proxy CPU/req x1.50" in table  # detection on / off
    assert json.dumps([r.as_dict() for r in results])
    results[-1].redis_reads = 1500  # more than one round trip per request
    assert "0.55, 1.50 round trips/req: NOT met" in render(results)
    results[-1].redis_reads = 300
    results[-1].load["rps"] = 900  # slower than half the minimal proxy
    assert "0.45, 0.30 round trips/req: NOT met" in render(results)


def test_rounds_merge_and_the_target_is_judged_on_the_median_round() -> None:
    from loadtest.bench_report import merge_rounds, target_lines

    def side(name: str, rps: float, seconds: float, reads: int | None) -> Result:
        requests = int(rps * seconds)
        load = {
            "requests": requests,
            "ok": requests,
            "statuses": {"200": requests},
            "elapsed_s": seconds,
            "rps": rps,
            "p50_ms": 1000 / rps,
            "p99_ms": 3000 / rps,
        }
        return Result(name, False, load, 0.1 * seconds, 0.05, {"evalsha": requests}, reads)

    minimal = [side("minimal aiohttp proxy", r, 2.0, None) for r in (4000, 2000, 4000)]
    gateway = [side("gateway (budgets only)", r, 2.0, 100) for r in (2400, 1300, 1600)]
    merged = merge_rounds(gateway)
    assert merged.requests == 2 * (2400 + 1300 + 1600)
    assert merged.rps == pytest.approx((2400 + 1300 + 1600) / 3, abs=0.1)
    assert merged.redis == {"evalsha": merged.requests} and merged.redis_reads == 300
    ratios = [g.rps / m.rps for m, g in zip(minimal, gateway, strict=True)]  # .6 .65 .4
    lines = target_lines([merge_rounds(minimal), merged], ratios)
    assert "0.60, 0.65, 0.40; median 0.60" in lines[0]
    assert lines[1].endswith("0.60, 0.03 round trips/req: met")
