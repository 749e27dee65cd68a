"""One optimisation, measured side by side: the gateway of another commit (A, default
``main``) against this checkout's (B), the same policy variant, in one run, alternating.

On a shared machine a before/after pair of overhead runs minutes apart mostly measures the
neighbours; here both gateways (each with its own ``gateway detect`` worker, its own code,
its own Redis database on one private redis-server) run at once against one mock upstream,
and every round measures A then B (B then A in the next round), loaded (C connections:
req/s, gateway CPU and Redis CPU per request) and then unloaded (1 connection, each quiet
first: p50). Reported: per round and the median of the rounds, and B's ratio to A.

``python -m loadtest.bench_ab [--base REF] [--variant budgets|off|full] [--rounds R]
[--duration S] [--unloaded N]``. A is ``git archive REF`` unpacked in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from loadtest import bench_gateway as gw
from loadtest.bench_measure import CHAT, Bench, Plan, Server
from loadtest.bench_procs import REPO, free_port, start, start_redis, wait_http, wait_idle
from loadtest.bench_redis import RedisCounters
from loadtest.bench_worker import Workers


@dataclass
class Side:
    """One gateway of the comparison and what its rounds measured."""

    name: str
    tree: Path
    server: Server | None = None
    cpu_us: list[float] = field(default_factory=list)
    redis_us: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    unloaded_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.name}: gateway CPU µs/req {_median(self.cpu_us):.0f} "
            f"{_rounded(self.cpu_us)}, "
            f"Redis CPU µs/req {_median(self.redis_us):.0f}, req/s {_median(self.rps):.0f} "
            f"{_rounded(self.rps)}, unloaded p50 ms {_median(self.unloaded_ms):.3f} "
            f"{[round(x, 3) for x in self.unloaded_ms]}"
        )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _rounded(values: list[float]) -> list[int]:
    return [round(v) for v in values]


def export(ref: str, into: Path) -> Path:
    """The files of ``ref`` (``git archive``), unpacked in ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def start_side(
    bench: Bench, setup: gw.GatewaySetup, side: Side, variant: str, upstream: str, db: int
) -> None:
    """Side's gateway and its detect worker (both running its tree's code), not waited for;
    its store is database ``db`` of the private redis-server."""
    store = bench.store.rsplit("/", 1)[0] + f"/{db}"
    ports = (free_port(), free_port())
    env = gw.gateway_env(setup, variant, ports, upstream, store)
    env["PYTHONPATH"] = str(side.tree)  # its own code first, whatever the caller's path
    proc = start(f"gateway-{side.name}", ["gateway", "serve"], bench.workdir, env, cwd=side.tree)
    server = Server(side.name, proc, ports[0], ports[1])
    side.server = server
    server.workers = Workers.start(
        f"{variant}-{side.name}", 1, env, bench.workdir, wait=False, cwd=side.tree
    )
    bench.workers.append(server.workers)


def run_round(bench: Bench, sides: list[Side], first: bool, unloaded: int) -> None:
    for side in sides:
        server = side.server
        assert server is not None
        result = bench.measure(side.name, server.base, server, warm=first)
        side.cpu_us.append(result.per_request_us(result.proxy_cpu_s) or float("nan"))
        side.redis_us.append(result.per_request_us(result.redis_cpu_s) or float("nan"))
        side.rps.append(result.rps)
    for side in sides:
        server = side.server
        assert server is not None
        procs = [server.proc, *(server.workers.procs if server.workers else [])]
        wait_idle(procs, bench.plan.drain_timeout)
        out = bench.load(server.base + CHAT, unloaded, 60.0, offset=3, concurrency=1)
        side.unloaded_ms.append(float(out["p50_ms"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_ab", description=__doc__)
    parser.add_argument("--base", default="main", help="commit of side A (default main)")
    parser.add_argument("--variant", choices=gw.VARIANTS, default="budgets")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per loaded run")
    parser.add_argument("--unloaded", type=int, default=300, help="requests per unloaded run")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="dg-ab-"))
    tree_a = export(args.base, Path(tempfile.mkdtemp(prefix="dg-ab-base-")))
    plan = Plan(
        requests=100_000, concurrency=32, duration=args.duration, warmup=1.0, accounts=100,
        store="", own_redis=True, gateway=True, stream=False, rounds=args.rounds,
        unloaded_requests=args.unloaded, unloaded_rounds=args.rounds, workers=1,
        drain_timeout=5.0, model="o3-mini", auth="keys",
    )  # fmt: skip
    mock_port = free_port()
    mock = start("mock", ["gateway.mock", "--listen", f"127.0.0.1:{mock_port}"], workdir)
    redis_proc, store = start_redis(workdir)
    bench = Bench(plan, workdir, mock, store=store, redis=RedisCounters(store))
    upstream = f"http://127.0.0.1:{mock_port}"
    sides = [Side(f"A ({args.base})", tree_a), Side("B (this checkout)", REPO)]
    setup = gw.prepare(workdir, plan.accounts)
    bench.keys_path = setup.plain_keys
    print(f"A/B {args.variant}: {args.rounds} rounds; logs in {workdir}", flush=True)
    try:
        wait_http(mock, upstream + "/v1/models")
        for db, side in enumerate(sides, start=1):
            start_side(bench, setup, side, args.variant, upstream, db)
        for side in sides:
            assert side.server is not None and side.server.workers is not None
            wait_http(side.server.proc, f"{side.server.base}/v1/models", timeout=120)
            side.server.workers.wait(timeout=120)
        for i in range(args.rounds):
            print(f"  round {i + 1}/{args.rounds}", flush=True)
            run_round(bench, sides if i % 2 == 0 else sides[::-1], i == 0, args.unloaded)
    finally:
        for side in sides:
            if side.server is not None:
                side.server.stop()
        mock.stop()
        redis_proc.stop()
        setup.plain_keys.unlink(missing_ok=True)
    a, b = sides
    print(f"\n{args.variant}\n  {a.summary()}\n  {b.summary()}")
    ratios = [y / x for x, y in zip(a.cpu_us, b.cpu_us, strict=True) if x]
    rounded = [round(r, 3) for r in ratios]
    print(f"  B/A gateway CPU per round {rounded}: median {_median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
