"""What the gateway costs: the mock upstream directly, a minimal aiohttp proxy, and the
gateway (detection on and off) in front of it, side by side in one run, on loopback.

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
from loadtest.bench_report import Result, render

CHAT = "/v1/chat/completions"


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

    def measure(self, name: str, base: str, proxy: Proc | None, stream: bool = False) -> Result:
        requests = self.plan.stream_requests if stream else self.plan.requests
        duration = self.plan.stream_duration if stream else self.plan.duration
        url = base + CHAT
        if not stream:  # a streaming run follows a non-streaming one: the server is warm
            warm = self.load(url, max(200, requests // 10), self.plan.warmup, stream, offset=7)
            if warm["ok"] == 0:
                raise RuntimeError(f"no request succeeded in warm-up: {warm['statuses']}")
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


def run_baselines(bench: Bench, upstream: str) -> None:
    """The mock directly, then the minimal proxy in front of it."""
    bench.measure("mock upstream directly", upstream, None)
    if bench.plan.stream:
        bench.measure("mock upstream directly", upstream, None, stream=True)
    port = free_port()
    args = ["loadtest.minimal_proxy", "--listen", f"127.0.0.1:{port}", "--upstream", upstream]
    proxy = start("minimal-proxy", args, bench.workdir)
    try:
        wait_http(proxy, f"http://127.0.0.1:{port}/v1/models")
        bench.measure("minimal aiohttp proxy", f"http://127.0.0.1:{port}", proxy)
        if bench.plan.stream:
            bench.measure("minimal aiohttp proxy", f"http://127.0.0.1:{port}", proxy, stream=True)
    finally:
        proxy.stop()


def run_gateway(
    bench: Bench, setup: gw.GatewaySetup, detection: str, upstream: str, stream: bool
) -> None:
    """``python -m gateway serve`` in front of the mock, with detection on or off."""
    port, admin = free_port(), free_port()
    env = gw.gateway_env(setup, detection, port, admin, upstream, bench.store)
    proc = start(f"gateway-detection-{detection}", ["gateway", "serve"], bench.workdir, env)
    name = (
        "gateway (budgets only)" if detection == "budgets" else f"gateway (detection {detection})"
    )
    try:
        wait_http(proc, f"http://127.0.0.1:{port}/v1/models", timeout=30)
        bench.measure(name, f"http://127.0.0.1:{port}", proc)
        if stream:
            bench.measure(name, f"http://127.0.0.1:{port}", proc, stream=True)
    except RuntimeError as exc:
        print(f"  {name} failed: {exc}\n{proc.tail()}", flush=True)
    finally:
        proc.stop()


def run(plan: Plan) -> list[Result]:
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
        run_baselines(bench, upstream)
        if setup is None:
            print(f"  gateway: not measured: {why_not}", flush=True)
        else:
            print(f"  gateway store: {bench.store}", flush=True)
            run_gateway(bench, setup, "on", upstream, plan.stream)
            run_gateway(bench, setup, "off", upstream, stream=False)
            run_gateway(bench, setup, "budgets", upstream, stream=False)
    finally:
        mock.stop()
        if bench.redis is not None and setup is not None:
            bench.redis.remove_prefix(setup.prefix)
            bench.redis.close()
        if redis_proc is not None:
            redis_proc.stop()
        if setup is not None:
            setup.plain_keys.unlink(missing_ok=True)
    return bench.results


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
    )
    return plan, args.json


def main(argv: list[str] | None = None) -> int:
    plan, json_path = parse_plan(argv)
    started = time.monotonic()
    results = run(plan)
    print()
    print(render(results, shared_redis=not plan.own_redis))
    print(f"\n(total {time.monotonic() - started:.0f}s)")
    if json_path:
        Path(json_path).write_text(json.dumps([r.as_dict() for r in results], indent=2))
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())
