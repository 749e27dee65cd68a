"""What the gateway costs: the mock upstream directly, a minimal aiohttp proxy, and the
gateway in front of it, side by side in one run, on loopback. Gateway variants
(``loadtest.bench_gateway.VARIANTS``): budgets only (the issue's target set: account,
cluster and model budgets and concurrency on Redis), every budget kind (plus window quotas
and a global budget), detection off (plus soft links) and detection on.

Each server runs in its own process and so does the load generator (closed loop, C
connections, bounded by request count and time, varied prompts, 200 accounts round-robin).
Reported per scenario: req/s, p50/p99 latency, CPU microseconds per request of the proxy
process (``/proc/PID/stat``) and of the mock, and for the gateway the Redis commands per
request (``INFO commandstats`` deltas) and the Redis round trips per request (``INFO stats``
read events). The machine's cores are shared by everything, so
ratios and CPU per request are the numbers to compare, not absolute req/s.

``python -m loadtest.bench_overhead [--quick] [--requests N] [--concurrency C] [--duration S]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest import bench_gateway as gw
from loadtest.bench_procs import (
    REPO,
    Proc,
    free_port,
    run_json,
    start,
    start_redis,
    wait_http,
)
from loadtest.bench_report import Result, merge_rounds, render

CHAT = "/v1/chat/completions"
MINIMAL = "minimal aiohttp proxy"
BUDGETS = "gateway (budgets only)"
SCENARIOS = {"budgets": BUDGETS, "all": "gateway (every budget kind)"}


@dataclass(frozen=True)
class Plan:
    requests: int
    concurrency: int
    duration: float
    warmup: float
    stream_requests: int
    stream_duration: float
    accounts: int
    store: str
    own_redis: bool
    gateway: bool
    stream: bool
    rounds: int = 3


@dataclass
class Bench:
    """The running pieces and the results so far."""

    plan: Plan
    workdir: Path
    mock: Proc
    store: str
    results: list[Result] = field(default_factory=list)
    redis: gw.RedisCounters | None = None
    keys_path: Path | None = None
    round_ratios: list[float] = field(default_factory=list)

    def load(
        self, url: str, requests: int, duration: float, stream: bool, offset: int
    ) -> dict[str, Any]:
        args = [
            "loadtest.loadgen",
            "--url",
            url,
            "--concurrency",
            str(self.plan.concurrency),
            "--requests",
            str(requests),
            "--duration",
            str(duration),
            "--offset",
            str(offset),
        ]
        if self.keys_path is not None:
            args += ["--keys", str(self.keys_path)]
        if stream:
            args.append("--stream")
        result: dict[str, Any] = json.loads(run_json(args, timeout=duration + 30))
        return result

    def measure(
        self,
        name: str,
        base: str,
        proxy: Proc | None,
        stream: bool = False,
        *,
        record: bool = True,
        warm: bool = True,
    ) -> Result:
        requests = self.plan.stream_requests if stream else self.plan.requests
        duration = self.plan.stream_duration if stream else self.plan.duration
        url = base + CHAT
        if warm and not stream:  # a streaming run follows a non-streaming one: already warm
            first = self.load(url, max(200, requests // 10), self.plan.warmup, stream, offset=7)
            if first["ok"] == 0:
                raise RuntimeError(f"no request succeeded in warm-up: {first['statuses']}")
        cpu0 = proxy.cpu() if proxy else 0.0
        mock0 = self.mock.cpu()
        redis0 = (
            self.redis.snapshot()
            if self.redis and proxy and proxy.name.startswith("gateway")
            else None
        )
        reads0 = self.redis.reads() if redis0 is not None and self.redis else 0
        out = self.load(url, requests, duration, stream, offset=0)
        result = Result(
            name=name,
            stream=stream,
            load=out,
            proxy_cpu_s=(proxy.cpu() - cpu0) if proxy else None,
            mock_cpu_s=self.mock.cpu() - mock0,
        )
        if redis0 is not None and self.redis is not None:
            result.redis = gw.RedisCounters.delta(redis0, self.redis.snapshot())
            result.redis_reads = self.redis.reads() - reads0 - 2  # the INFO calls
        if record:
            self.results.append(result)
        print(f"  {result.line()}", flush=True)
        return result


def _default_store() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        return "redis://127.0.0.1:6379/15"
    return urllib.parse.urlsplit(url)._replace(path="/15").geturl()


def _gateway_ready() -> str | None:
    """None when ``python -m gateway serve --help`` works, else why not."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--help"],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    if done.returncode == 0:
        return None
    return (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[-1]


def run_baselines(bench: Bench, upstream: str, *, minimal: bool = True) -> None:
    """The mock directly, then (streaming, or without the gateway) the minimal proxy."""
    bench.measure("mock upstream directly", upstream, None)
    if bench.plan.stream:
        bench.measure("mock upstream directly", upstream, None, stream=True)
    if not minimal and not bench.plan.stream:
        return
    port = free_port()
    args = ["loadtest.minimal_proxy", "--listen", f"127.0.0.1:{port}", "--upstream", upstream]
    proxy = start("minimal-proxy", args, bench.workdir)
    try:
        wait_http(proxy, f"http://127.0.0.1:{port}/v1/models")
        if minimal:
            bench.measure(MINIMAL, f"http://127.0.0.1:{port}", proxy)
        if bench.plan.stream:
            bench.measure("minimal aiohttp proxy", f"http://127.0.0.1:{port}", proxy, stream=True)
    finally:
        proxy.stop()


def run_target_pair(bench: Bench, setup: gw.GatewaySetup, upstream: str) -> None:
    """The issue's target pair, the minimal proxy and the gateway with budgets only, both
    running, measured alternately for ``rounds`` rounds: a noisy neighbour then slows both
    sides of a round alike. Each side's rounds are merged into one result, and the ratio of
    every round is kept (the target is judged on their median)."""
    port = free_port()
    args = ["loadtest.minimal_proxy", "--listen", f"127.0.0.1:{port}", "--upstream", upstream]
    minimal = start("minimal-proxy", args, bench.workdir)
    gport, admin = free_port(), free_port()
    env = gw.gateway_env(setup, "budgets", gport, admin, upstream, bench.store)
    gateway = start("gateway-detection-budgets", ["gateway", "serve"], bench.workdir, env)
    try:
        wait_http(minimal, f"http://127.0.0.1:{port}/v1/models")
        wait_http(gateway, f"http://127.0.0.1:{gport}/v1/models", timeout=30)
        sides: dict[str, list[Result]] = {MINIMAL: [], BUDGETS: []}
        for i in range(bench.plan.rounds):
            print(f"  round {i + 1}/{bench.plan.rounds}", flush=True)
            for name, proc, at in ((MINIMAL, minimal, port), (BUDGETS, gateway, gport)):
                result = bench.measure(
                    name, f"http://127.0.0.1:{at}", proc, record=False, warm=i == 0
                )
                sides[name].append(result)
        for name in (MINIMAL, BUDGETS):
            bench.results.append(merge_rounds(sides[name]))
        bench.round_ratios = [
            g.rps / m.rps for m, g in zip(sides[MINIMAL], sides[BUDGETS], strict=True) if m.rps
        ]
    finally:
        minimal.stop()
        gateway.stop()


def run_gateway(
    bench: Bench, setup: gw.GatewaySetup, detection: str, upstream: str, stream: bool
) -> None:
    """``python -m gateway serve`` in front of the mock, with detection on or off."""
    port, admin = free_port(), free_port()
    env = gw.gateway_env(setup, detection, port, admin, upstream, bench.store)
    proc = start(f"gateway-detection-{detection}", ["gateway", "serve"], bench.workdir, env)
    name = SCENARIOS.get(detection, f"gateway (detection {detection})")
    try:
        wait_http(proc, f"http://127.0.0.1:{port}/v1/models", timeout=30)
        bench.measure(name, f"http://127.0.0.1:{port}", proc)
        if stream:
            bench.measure(name, f"http://127.0.0.1:{port}", proc, stream=True)
    except RuntimeError as exc:
        print(f"  {name} failed: {exc}\n{proc.tail()}", flush=True)
    finally:
        proc.stop()


def run(plan: Plan) -> tuple[list[Result], list[float]]:
    """Every scenario's result, and the target pair's per-round ratios."""
    workdir = Path(tempfile.mkdtemp(prefix="dg-bench-"))
    mock_port = free_port()
    mock = start("mock", ["gateway.mock", "--listen", f"127.0.0.1:{mock_port}"], workdir)
    bench = Bench(plan, workdir, mock, store=plan.store)
    upstream = f"http://127.0.0.1:{mock_port}"
    setup: gw.GatewaySetup | None = None
    redis_proc: Proc | None = None
    try:
        wait_http(mock, upstream + "/v1/models")
        why_not = _gateway_ready() if plan.gateway else "skipped (--no-gateway)"
        if why_not is None:
            setup = gw.prepare(workdir, plan.accounts)
            bench.keys_path = setup.plain_keys
            if plan.own_redis:
                redis_proc, bench.store = start_redis(workdir)
            if bench.store.startswith(("redis://", "rediss://")):
                bench.redis = gw.RedisCounters(bench.store)
        print(
            f"overhead bench: {plan.concurrency} connections, <= {plan.requests} requests "
            f"or {plan.duration:.0f}s per scenario; logs in {workdir}",
            flush=True,
        )
        run_baselines(bench, upstream, minimal=setup is None)
        if setup is None:
            print(f"  gateway: not measured: {why_not}", flush=True)
        else:
            print(f"  gateway store: {bench.store}", flush=True)
            run_target_pair(bench, setup, upstream)
            run_gateway(bench, setup, "all", upstream, stream=False)
            run_gateway(bench, setup, "on", upstream, plan.stream)
            run_gateway(bench, setup, "off", upstream, stream=False)
    finally:
        mock.stop()
        if bench.redis is not None and setup is not None:
            bench.redis.remove_prefix(setup.prefix)
            bench.redis.close()
        if redis_proc is not None:
            redis_proc.stop()
        if setup is not None:
            setup.plain_keys.unlink(missing_ok=True)
    return bench.results, bench.round_ratios


def parse_plan(argv: list[str] | None) -> tuple[Plan, str | None]:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_overhead",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--quick", action="store_true", help="short run (under ~40 s)")
    parser.add_argument("--requests", type=int, help="most requests per scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--duration", type=float, help="most seconds per scenario")
    parser.add_argument("--accounts", type=int, default=200, help="API keys (default 200)")
    parser.add_argument(
        "--store",
        default=_default_store(),
        help="gateway store (default redis://127.0.0.1:6379/15, or $REDIS_URL with db 15)",
    )
    parser.add_argument(
        "--own-redis",
        action="store_true",
        help="start a private redis-server for the gateway, so that the "
        "command counts include no other client's commands",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds of the minimal proxy and the budgets-only gateway (default 3)",
    )
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming runs")
    parser.add_argument("--no-gateway", action="store_true", help="baselines only")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    quick = args.quick
    duration = args.duration or (2.5 if quick else 12.0)
    plan = Plan(
        requests=args.requests or (15000 if quick else 80000),
        concurrency=args.concurrency,
        duration=duration,
        warmup=1.0 if quick else 2.5,
        stream_requests=max(100, (args.requests or (15000 if quick else 80000)) // 4),
        stream_duration=max(1.5, duration / 3),
        accounts=args.accounts,
        store=args.store,
        own_redis=args.own_redis,
        gateway=not args.no_gateway,
        stream=not args.no_stream,
        rounds=max(1, args.rounds),
    )
    return plan, args.json


def main(argv: list[str] | None = None) -> int:
    plan, json_path = parse_plan(argv)
    started = time.monotonic()
    results, round_ratios = run(plan)
    print()
    print(render(results, shared_redis=not plan.own_redis, round_ratios=round_ratios))
    print(f"\n(total {time.monotonic() - started:.0f}s)")
    if json_path:
        Path(json_path).write_text(json.dumps([r.as_dict() for r in results], indent=2))
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())
