"""The overhead benchmark's pieces: minimal proxy, load generator, CPU accounting, report."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.mock import STATS_KEY, build_mock_app
from loadtest.bench_gateway import SHIPPED, variant_document
from loadtest.bench_procs import cpu_seconds
from loadtest.bench_report import DetectSide, Result, command_table, merge_rounds
from loadtest.bench_targets import BUDGETS, FULL, MINIMAL, render
from loadtest.bench_worker import LAG, histogram_quantile, parse_metrics
from loadtest.detection.policy import read_document
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


def test_variants_are_the_shipped_policy_or_parts_of_it() -> None:
    from gateway.policy.schema import Policy

    shipped = read_document(SHIPPED)
    full, off, budgets = (
        Policy.model_validate(variant_document(shipped, v)) for v in ("full", "off", "budgets")
    )
    assert full.detection.enabled and full == Policy.model_validate(shipped)
    assert not off.detection.enabled and off.tiers["enterprise"].diversity
    assert off.clusters.link_on.soft == full.clusters.link_on.soft != ()
    assert not budgets.detection.enabled and not budgets.clusters.link_on.soft
    assert all(t.diversity is None for t in budgets.tiers.values())
    # every other budget is the shipped one
    assert budgets.tiers["pro"].quotas == full.tiers["pro"].quotas
    assert budgets.models == full.models and budgets.global_ == full.global_
    assert shipped == read_document(SHIPPED)  # the shipped document is not changed


def _load(requests: int, rps: float, seconds: float = 2.0) -> dict[str, object]:
    return {
        "requests": requests,
        "ok": requests,
        "statuses": {"200": requests},
        "elapsed_s": seconds,
        "rps": rps,
        "p50_ms": 1000 / rps,
        "p99_ms": 3000 / rps,
    }


def test_histogram_quantiles_from_bucket_deltas() -> None:
    before = {0.1: 10.0, 0.5: 10.0, 1.0: 10.0, float("inf"): 10.0}
    after = {0.1: 10.0, 0.5: 60.0, 1.0: 110.0, float("inf"): 110.0}  # 100 new: 50 + 50
    assert histogram_quantile(before, after, 0.5) == pytest.approx(0.5)
    assert histogram_quantile(before, after, 0.25) == pytest.approx(0.3)
    assert histogram_quantile(before, after, 0.99) == pytest.approx(0.99)
    assert histogram_quantile(after, after, 0.5) is None  # nothing observed in between
    above = {**after, float("inf"): 210.0}  # 100 more above the largest bound
    assert histogram_quantile(before, above, 0.99) == float("inf")
    text = (
        "# TYPE gateway_detect_lag_seconds histogram\n"
        'gateway_detect_lag_seconds_bucket{le="0.5",shard="0"} 3\n'
        'gateway_detect_lag_seconds_bucket{le="0.5",shard="1"} 4\n'
        'gateway_detect_lag_seconds_bucket{le="+Inf",shard="0"} 5\n'
        "gateway_detect_lag_seconds_count 5\n"
        "# TYPE gateway_detect_sightings_total counter\n"
        'gateway_detect_sightings_total{worker="a"} 7\n'
        'gateway_detect_sightings_total{worker="b"} 5\n'
    )
    scraped = parse_metrics(text)
    assert scraped.buckets[LAG] == {0.5: 7.0, float("inf"): 5.0}
    assert (scraped + scraped).value("gateway_detect_sightings_total") == 24.0


def test_report_targets_per_round_and_unloaded() -> None:
    minimal = [Result(MINIMAL, False, _load(8000, 4000), 0.8, 0.1) for _ in range(3)]
    fulls = []
    for rps in (2400, 1800, 2200):  # ratios 0.6, 0.45, 0.55: median 0.55
        requests = int(rps * 2)
        side = DetectSide(
            worker_cpu_s=requests * 200e-6,
            applied=requests,
            appended=requests,
            dropped=0,
            trimmed=0,
            lag_buckets={0.1: requests * 0.9, 1.0: requests * 0.995, float("inf"): requests},
        )
        result = Result(FULL, False, _load(requests, rps), requests * 150e-6, 0.1)
        result.redis, result.redis_reads = {"evalsha": requests}, requests // 2
        result.worker_round_trips = requests // 4  # the workers' share of the server's reads
        result.redis_cpu_s, result.detect = requests * 50e-6, side
        fulls.append(result)
    ratios = {FULL: [f.rps / m.rps for m, f in zip(minimal, fulls, strict=True)]}
    merged = [merge_rounds(minimal), merge_rounds(fulls)]
    assert merged[1].detect is not None and merged[1].detect.applied == 12800
    unloaded = {MINIMAL: [0.40, 0.42, 0.41], FULL: [0.80, 0.85, 0.90]}
    text = render(merged, round_ratios=ratios, unloaded=unloaded)
    assert "0.60, 0.45, 0.55; median 0.55" in text
    assert "(median round): 0.55: met" in text
    assert "CPU per request <= 2x the minimal proxy's: 1.50: met" in text
    assert "Redis CPU per request <= 60 µs (full): 50 µs: met" in text
    assert "round trips per request <= 1 (full): 0.25: met" in text  # the gateway's own
    assert merged[1].round_trips_per_request(workers=True) == pytest.approx(0.5)
    assert "lag p99 <= 2 s (full): 0.953 s: met (p99 in the (0.1, 1] s bucket)" in text
    side = merged[1].detect
    side.lag_buckets = {1.0: 90.0, 2.5: 100.0, float("inf"): 100.0}  # p99 in (1, 2.5]
    assert "(full): 2.350 s: undecided (p99 in the (1, 2.5] s bucket)" in render(merged)
    side.lag_buckets = {1.0: 90.0, 2.0: 90.0, 5.0: 100.0, float("inf"): 100.0}
    assert "(full): 4.700 s: NOT met (p99 in the (2, 5] s bucket)" in render(merged)
    side.lag_buckets = {2.5: 90.0, float("inf"): 100.0}
    assert "(full): >max bucket: NOT met (p99 in the (2.5, inf] s bucket)" in render(merged)
    side.lag_buckets = {0.1: 12800 * 0.9, 1.0: 12800 * 0.995, float("inf"): 12800}
    assert "(full, 1 connection): 0.43 ms: met" in text
    assert "worker CPU 200 µs per sighting" in text
    # slower than half the minimal proxy, more Redis CPU, far more added latency: NOT met
    ratios[FULL] = [0.4, 0.45, 0.5]
    merged[1].redis_cpu_s = 12800 * 80e-6
    unloaded[FULL] = [1.4, 1.4, 1.4]
    text = render(merged, round_ratios=ratios, unloaded=unloaded)
    assert "(median round): 0.45: NOT met" in text
    assert "(full): 80 µs: NOT met" in text and "1 connection): 0.99 ms: NOT met" in text
    # a run of refusals is no pass-through measurement, whatever its rate
    merged[1].load["ok"] = merged[1].requests // 2
    ratios[FULL] = [0.9]
    assert "0.90: NOT met (50.0% not 200" in render(merged, round_ratios=ratios)
    # without workers, or without the budgets-only gateway: not measured / no line
    merged[1].detect = None
    text = render(merged, round_ratios=ratios)
    assert "lag p99 <= 2 s (full): -: not measured" in text and BUDGETS not in text


def test_workers_are_read_and_drained_from_their_metrics() -> None:
    """Two workers' /metrics summed; drain waits until they applied what was appended."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from loadtest.bench_worker import SIGHTINGS, TRIMMED, Workers

    applied = {"n": 0}

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            applied["n"] += 10  # every scrape, 10 more sightings applied (per worker)
            body = (
                "# TYPE gateway_detect_sightings_total counter\n"
                f"gateway_detect_sightings_total {applied['n']}\n"
                "# TYPE gateway_detect_trimmed_total gauge\n"  # per shard, read by each worker
                'gateway_detect_trimmed_total{shard="0"} 4\n'
                'gateway_detect_trimmed_total{shard="1"} 3\n'
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Metrics) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        workers = Workers([], [s.server_address[1] for s in servers])
        first = workers.scrape().value(SIGHTINGS)
        assert first == 10 + 20  # two pages, summed
        assert workers.scrape().value(TRIMMED) == 7  # shards summed, workers not
        last = workers.drain(target=first + 200, timeout=30)
        assert last.value(SIGHTINGS) >= first + 200
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_command_table_per_request_dearest_first_and_merged() -> None:
    rounds = []
    for calls, usec in ((100, 4000), (300, 2000)):  # 400 requests, merged
        result = Result(FULL, False, _load(200, 1000), 0.1, 0.1)
        result.redis = {"evalsha": calls, "get": 2 * calls, "ping": 1}
        result.redis_usec = {"evalsha": usec, "get": calls, "ping": 3}
        rounds.append(result)
    merged = merge_rounds(rounds)
    assert merged.redis_usec == {"evalsha": 6000, "get": 400, "ping": 6}
    rows = command_table(merged, most=2)
    assert rows[2].split() == ["evalsha", "1.00", "15.0", "15.00"]  # 400 calls, 6000 µs
    assert rows[3].split() == ["get", "2.00", "1.0", "0.50"]
    assert rows[4].split() == ["1", "others", "0.01", "0.0"]  # ping, cut by most=2
    assert merged.as_dict()["redis_commands_usec"]["get"] == 400
