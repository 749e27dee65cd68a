"""One measured run of the overhead benchmark: the plan, the servers, and the counters read
around each run (proxy and mock CPU, Redis commands, round trips and CPU, the workers'
sightings, lag and CPU after they caught up)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.bench_procs import Proc, run_json, wait_idle
from loadtest.bench_redis import RedisCounters
from loadtest.bench_report import DetectSide, Result
from loadtest.bench_worker import (
    APPENDED,
    BATCHES,
    DROPPED,
    LAG,
    SIGHTINGS,
    TRIMMED,
    Scrape,
    Workers,
    scrape,
)

CHAT = "/v1/chat/completions"
BACKGROUND_DROPPED = "gateway_background_dropped_total"  # in-process off-path work dropped


@dataclass(frozen=True)
class Plan:
    requests: int
    concurrency: int
    duration: float
    warmup: float
    accounts: int
    store: str
    own_redis: bool
    gateway: bool
    stream: bool
    rounds: int
    unloaded_requests: int
    unloaded_rounds: int
    workers: int  # gateway detect processes per gateway variant
    drain_timeout: float  # most seconds to wait for the workers after a round
    model: str
    auth: str = "keys"  # API keys or JWTs (see bench_gateway.prepare)
    variants: tuple[str, ...] = ("budgets", "off", "full")  # gateway variants measured


@dataclass
class Server:
    """One measured server: the minimal proxy or a gateway variant (with its workers)."""

    name: str
    proc: Proc
    port: int
    admin_port: int | None = None
    workers: Workers | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gateway_metrics(self) -> Scrape:
        if self.admin_port is None:
            return Scrape()
        return scrape(f"http://127.0.0.1:{self.admin_port}/metrics")

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        self.proc.stop()


@dataclass
class Bench:
    """The running pieces and the results so far."""

    plan: Plan
    workdir: Path
    mock: Proc
    store: str
    redis: RedisCounters | None = None
    keys_path: Path | None = None
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    workers: list[Workers] = field(default_factory=list)  # every variant's (idle ones poll)

    def worker_writes(self) -> int:
        return sum(w.write_calls() for w in self.workers)

    def load(
        self,
        url: str,
        requests: int,
        duration: float,
        *,
        stream: bool = False,
        offset: int = 0,
        concurrency: int | None = None,
    ) -> dict[str, Any]:
        args = ["loadtest.loadgen", "--url", url, "--model", self.plan.model]
        args += ["--concurrency", str(concurrency or self.plan.concurrency)]
        args += ["--requests", str(requests), "--duration", str(duration)]
        args += ["--offset", str(offset)]
        if self.keys_path is not None:
            args += ["--keys", str(self.keys_path)]
        if stream:
            args.append("--stream")
        result: dict[str, Any] = json.loads(run_json(args, timeout=duration + 60))
        return result

    def measure(
        self,
        name: str,
        base: str,
        server: Server | None,
        *,
        stream: bool = False,
        warm: bool = False,
    ) -> Result:
        """One run of the load against ``base``, with every counter read around it."""
        plan = self.plan
        url = base + CHAT
        if warm:
            first = self.load(url, max(200, plan.requests // 10), plan.warmup, offset=7)
            if first["ok"] == 0:
                raise RuntimeError(f"{name}: no request succeeded in warm-up: {first['statuses']}")
        workers = server.workers if server is not None else None
        if server is not None:  # start from a quiet server (the warm-up's off-path work done)
            wait_idle([server.proc], plan.drain_timeout)
        if workers is not None and server is not None:  # and workers that caught up with it
            workers.drain(server.gateway_metrics().value(APPENDED), plan.drain_timeout)
        redis = self.redis if server is not None and server.admin_port is not None else None
        cpu0, mock0 = (server.proc.cpu() if server else 0.0), self.mock.cpu()
        r0 = redis.snapshot() if redis else None
        writes0 = self.worker_writes() if redis else 0
        w0, wcpu0 = (workers.scrape(), workers.cpu()) if workers else (Scrape(), 0.0)
        g0 = server.gateway_metrics() if server else Scrape()
        duration = plan.duration / 3 if stream else plan.duration
        out = self.load(url, plan.requests // (4 if stream else 1), duration, stream=stream)
        reads = redis.reads() if redis else 0
        worker_writes = self.worker_writes() - writes0 if redis else 0
        mock_cpu = self.mock.cpu() - mock0
        if server is not None:  # the gateway's off-path work after the load is its cost too
            wait_idle([server.proc], plan.drain_timeout)
        result = Result(name, stream, out, (server.proc.cpu() - cpu0) if server else None, mock_cpu)
        g1 = server.gateway_metrics() if server else Scrape()
        result.background_dropped = g1.value(BACKGROUND_DROPPED) - g0.value(BACKGROUND_DROPPED)
        if workers is not None and server is not None:
            appended = g1.value(APPENDED) - g0.value(APPENDED)
            w1 = workers.drain(w0.value(SIGHTINGS) + appended, plan.drain_timeout)
            lag0, lag1 = w0.buckets.get(LAG, {}), w1.buckets.get(LAG, {})
            result.detect = DetectSide(
                worker_cpu_s=workers.cpu() - wcpu0,
                applied=w1.value(SIGHTINGS) - w0.value(SIGHTINGS),
                appended=appended,
                dropped=g1.value(DROPPED) - g0.value(DROPPED),
                trimmed=w1.value(TRIMMED) - w0.value(TRIMMED),
                lag_buckets={le: n - lag0.get(le, 0.0) for le, n in lag1.items()},
                batches=w1.value(BATCHES) - w0.value(BATCHES),
            )
        if redis is not None and r0 is not None:
            r1 = redis.snapshot()
            result.redis = RedisCounters.delta(r0.commands, r1.commands)
            result.redis_usec = RedisCounters.delta(r0.usec, r1.usec)
            result.redis_reads = reads - r0.reads - 2  # the INFO calls in between
            result.worker_round_trips = worker_writes
            result.redis_cpu_s = r1.cpu_s - r0.cpu_s
        print(f"  {result.line()}", flush=True)
        return result
