"""What the gateway costs: a minimal aiohttp proxy and the gateway with the shipped
``policies/`` (budgets only, detection off, full; see ``loadtest.bench_gateway``) in front of
the mock upstream, side by side in one run, on loopback.

Every server runs in its own process, all of them at once, and so does the load generator
(closed loop, C connections, bounded by request count and time, varied real prompts of the
bundled corpora, 100 accounts round-robin). The scenarios are measured in alternating rounds,
so a noisy neighbour slows every side of a round alike; the ratios are judged per round.
Each gateway variant gets its own ``gateway detect`` worker(s) when this checkout has the
command (otherwise detection runs inside the gateway process and the table says so).

Reported per scenario: req/s, p50/p99, CPU microseconds per request of the proxy process
(``/proc/PID/stat``, its off-path work after the load included), Redis CPU per request
(``INFO cpu``, the whole server: gateway and workers, until the workers caught up), Redis
commands per request (``INFO commandstats``) and the gateway's round trips per request (the
server's read events, ``INFO stats``, less the workers' write calls, ``/proc/PID/io``), worker
CPU per sighting and detection lag p50/p99 (the workers' metrics); then unloaded latency
(1 connection, each server quiet first) and the target lines.

``python -m loadtest.bench_overhead [--quick] [--own-redis] [--rounds R] [--duration S]
[--variants budgets off full]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import urllib.parse
from pathlib import Path

from loadtest import bench_gateway as gw
from loadtest.bench_measure import CHAT, Bench, Plan, Server
from loadtest.bench_procs import (
    Proc,
    free_port,
    gateway_command_error,
    start,
    start_redis,
    wait_http,
    wait_idle,
)
from loadtest.bench_redis import RedisCounters
from loadtest.bench_report import Result, merge_rounds
from loadtest.bench_targets import MINIMAL, render
from loadtest.bench_worker import Workers, detect_available


def _default_store() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        return "redis://127.0.0.1:6379/15"
    return urllib.parse.urlsplit(url)._replace(path="/15").geturl()


def start_servers(bench: Bench, setup: gw.GatewaySetup | None, upstream: str) -> list[Server]:
    """The minimal proxy and (with ``setup``) every gateway variant, all running."""
    port = free_port()
    args = ["loadtest.minimal_proxy", "--listen", f"127.0.0.1:{port}", "--upstream", upstream]
    servers = [Server(MINIMAL, start("minimal-proxy", args, bench.workdir), port)]
    why_not = detect_available() if setup is not None and bench.plan.workers else "--workers 0"
    if setup is not None and why_not is not None:
        bench.notes.append(f"no gateway detect workers: {why_not}")
    try:  # every process started first, then each waited for: they start side by side
        for variant in bench.plan.variants if setup is not None else ():
            assert setup is not None
            ports = (free_port(), free_port())
            env = gw.gateway_env(setup, variant, ports, upstream, bench.store)
            proc = start(f"gateway-{variant}", ["gateway", "serve"], bench.workdir, env)
            server = Server(gw.TITLES[variant], proc, ports[0], ports[1])
            servers.append(server)
            if why_not is None:
                workers = Workers.start(variant, bench.plan.workers, env, bench.workdir, wait=False)
                server.workers = workers
                bench.workers.append(workers)
        for server in servers:
            wait_http(server.proc, f"{server.base}/v1/models", timeout=60)
            if server.workers is not None:
                server.workers.wait(timeout=60)
    except RuntimeError:
        for server in servers:
            server.stop()
        raise
    return servers


def run_rounds(bench: Bench, servers: list[Server]) -> dict[str, list[float]]:
    """Every server measured in turn, ``rounds`` times; per gateway its req/s ratio to the
    minimal proxy in each round."""
    sides: dict[str, list[Result]] = {s.name: [] for s in servers}
    for i in range(bench.plan.rounds):
        print(f"  round {i + 1}/{bench.plan.rounds}", flush=True)
        for server in servers:
            sides[server.name].append(bench.measure(server.name, server.base, server, warm=i == 0))
    bench.results += [merge_rounds(rounds) for rounds in sides.values()]
    base = sides[MINIMAL]
    return {
        name: [g.rps / m.rps for m, g in zip(base, rounds, strict=True) if m.rps]
        for name, rounds in sides.items()
        if name != MINIMAL
    }


def run_unloaded(bench: Bench, servers: list[Server]) -> dict[str, list[float]]:
    """p50 latency (ms) over one connection, per server and round (alternating)."""
    p50s: dict[str, list[float]] = {s.name: [] for s in servers}
    plan = bench.plan
    for _ in range(plan.unloaded_rounds):
        for server in servers:
            procs = [server.proc, *(server.workers.procs if server.workers else [])]
            wait_idle(procs, plan.drain_timeout)  # no backlog of the loaded runs left
            out = bench.load(
                server.base + CHAT, plan.unloaded_requests, plan.duration, offset=3, concurrency=1
            )
            p50s[server.name].append(float(out["p50_ms"]))
    return p50s


def run(plan: Plan) -> tuple[Bench, dict[str, list[float]], dict[str, list[float]]]:
    workdir = Path(tempfile.mkdtemp(prefix="dg-bench-"))
    mock_port = free_port()
    mock = start("mock", ["gateway.mock", "--listen", f"127.0.0.1:{mock_port}"], workdir)
    bench = Bench(plan, workdir, mock, store=plan.store)
    upstream = f"http://127.0.0.1:{mock_port}"
    setup: gw.GatewaySetup | None = None
    redis_proc: Proc | None = None
    servers: list[Server] = []
    ratios: dict[str, list[float]] = {}
    unloaded: dict[str, list[float]] = {}
    try:
        wait_http(mock, upstream + "/v1/models")
        why_not = gateway_command_error("serve") if plan.gateway else "skipped (--no-gateway)"
        if why_not is None:
            setup = gw.prepare(workdir, plan.accounts, auth=plan.auth)
            bench.keys_path = setup.plain_keys
            if plan.own_redis:
                redis_proc, bench.store = start_redis(workdir)
            if bench.store.startswith(("redis://", "rediss://")):
                bench.redis = RedisCounters(bench.store)
        else:
            bench.notes.append(f"gateway not measured: {why_not}")
        print(
            f"overhead bench: {plan.concurrency} connections, {plan.accounts} accounts "
            f"({plan.auth}), model {plan.model}, <= {plan.requests} requests or "
            f"{plan.duration:.0f}s per run, "
            f"{plan.rounds} rounds; store {bench.store}; logs in {workdir}",
            flush=True,
        )
        bench.results.append(bench.measure("mock upstream directly", upstream, None, warm=True))
        servers = start_servers(bench, setup, upstream)
        ratios = run_rounds(bench, servers)
        print("  unloaded (1 connection)", flush=True)
        unloaded = run_unloaded(bench, servers)
        if plan.stream:
            for server in (servers[0], servers[-1]):
                bench.results.append(bench.measure(server.name, server.base, server, stream=True))
    finally:
        for server in servers:
            server.stop()
        mock.stop()
        if bench.redis is not None and setup is not None:
            bench.redis.remove_prefix(f"{setup.prefix}-")
            bench.redis.close()
        if redis_proc is not None:
            redis_proc.stop()
        if setup is not None:
            setup.plain_keys.unlink(missing_ok=True)
    return bench, ratios, unloaded


def parse_plan(argv: list[str] | None) -> tuple[Plan, str | None]:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_overhead",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--quick", action="store_true", help="short run (about a minute)")
    parser.add_argument("--requests", type=int, help="most requests per run")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--duration", type=float, help="most seconds per run")
    parser.add_argument("--accounts", type=int, default=100, help="API keys (default 100)")
    parser.add_argument(
        "--auth", choices=("keys", "jwt"), default="keys", help="API keys (default) or JWTs"
    )
    parser.add_argument("--model", default="o3-mini", help="model asked for (default o3-mini)")
    parser.add_argument(
        "--store",
        default=_default_store(),
        help="store (default redis://127.0.0.1:6379/15, or $REDIS_URL, db 15)",
    )
    parser.add_argument(
        "--own-redis",
        action="store_true",
        help="a private redis-server: exact command counts and Redis CPU",
    )
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 3; quick 2)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway detect processes per gateway variant (default 1)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=gw.VARIANTS,
        default=list(gw.VARIANTS),
        help="gateway variants measured (default all three)",
    )
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming runs")
    parser.add_argument("--no-gateway", action="store_true", help="baselines only")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    quick = args.quick
    duration = args.duration or (2.5 if quick else 10.0)
    plan = Plan(
        requests=args.requests or (15000 if quick else 80000),
        concurrency=args.concurrency,
        duration=duration,
        warmup=1.0 if quick else 2.5,
        accounts=args.accounts,
        store=args.store,
        own_redis=args.own_redis,
        gateway=not args.no_gateway,
        stream=not args.no_stream and not quick,
        rounds=max(1, args.rounds or (2 if quick else 3)),
        unloaded_requests=100 if quick else 400,
        unloaded_rounds=3 if quick else 5,
        workers=max(0, args.workers),
        drain_timeout=5.0 if quick else 20.0,
        model=args.model,
        auth=args.auth,
        variants=tuple(args.variants),
    )
    return plan, args.json


def main(argv: list[str] | None = None) -> int:
    plan, json_path = parse_plan(argv)
    started = time.monotonic()
    bench, ratios, unloaded = run(plan)
    print()
    print(
        render(
            bench.results,
            round_ratios=ratios,
            unloaded=unloaded,
            shared_redis=not plan.own_redis,
            notes=bench.notes,
        )
    )
    print(f"\n(total {time.monotonic() - started:.0f}s)")
    if json_path:
        out = {
            "results": [r.as_dict() for r in bench.results],
            "round_ratios": ratios,
            "unloaded_p50_ms": unloaded,
            "notes": bench.notes,
        }
        Path(json_path).write_text(json.dumps(out, indent=2))
    return 0 if bench.results else 1


if __name__ == "__main__":
    raise SystemExit(main())
