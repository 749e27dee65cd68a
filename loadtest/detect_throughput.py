"""One ``gateway detect`` process: what a sighting costs end to end, as a backlog or at a
steady rate.

Starts ``gateway detect`` (loopback, the shipped policy) on a Redis and appends sightings
through the gateway's own sink (sharded ``XADD``):

* backlog (default): ``--accounts x --per-account`` synthetic sightings at once;
* ``--rate R --seconds S``: the detection kit's traffic (its quick plan: every benign persona
  and harvest strategy, hydra members sharing clusters; stamped with the time of appending)
  at ``R`` sightings a second for ``S`` seconds, as gateways serving ``R`` requests a second
  append them: what the worker's batches, cost per sighting and lag are at that rate. Every
  account's first sighting is appended and applied first, unmeasured (a first sighting starts
  a co-activity episode that meets every account active then: a burst when all accounts
  start within seconds, which a steady state does not have).

It waits until the worker reports them all applied, and prints, side by side: the worker's
CPU per sighting (``process_cpu_seconds_total`` from its ``/metrics``), the Redis server's CPU
per sighting (``INFO cpu``: the appends and the apply scripts; other clients of that Redis
count too: ``--own-redis`` starts a private one), the commands Redis executed per sighting
(``INFO commandstats``, inside scripts too), wall time, batches and their mean size, lag
p50/p99. Keys go under a fresh prefix, deleted at the end.

``python -m loadtest.detect_throughput [--accounts 200] [--per-account 50] [--redis URL]``
``python -m loadtest.detect_throughput --rate 1200 --seconds 20 --own-redis``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from gateway.detection.batch import Sighting
from gateway.limiter.factory import build_backend
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.observability.metrics import Metrics
from gateway.sightings.codec import SightingCodec
from gateway.sightings.sink_redis import RedisSink
from loadtest.bench_procs import start_redis
from loadtest.bench_redis import RedisCounters
from loadtest.bench_worker import LAG, histogram_quantile, parse_metrics

SHARDS = 8
TIMEOUT = 300.0  # a bound on the run, not a measurement


def _page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        return str(response.read().decode())


def _metrics(text: str) -> dict[str, float]:
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels
    }


def _sighting(account: int, i: int) -> Sighting:
    fingerprint = Fingerprint(
        exact=account * 1_000_003 + i,
        skeleton=i % 50,
        simhash=(account << 24) ^ (i * 2654435761 % 2**24),
        bands=(i & 0xFFFF, account & 0xFFFF, i % 7, 1),
        cell=(account * 31 + i) % 4096,
        system=0,
        words=20,
        est_tokens=60,
        elicitation=0.3 if account % 4 == 0 else 0.0,
    )
    identity = Identity(f"acct-{account}", "free")
    features = RequestFeatures("chat", "mock-gpt", max_tokens=1024)
    return Sighting(identity, identity.account_id, 1, fingerprint, features, time.time())


def backlog(accounts: int, per_account: int) -> list[Sighting]:
    return [_sighting(a, i) for i in range(per_account) for a in range(accounts)]


def kit_traffic(count: int) -> list[Sighting]:
    """The kit's first ``count`` requests, their attributes concealed as a gateway does."""
    from gateway.sightings.observer import conceal
    from loadtest.bench_detect import kit_sightings

    key = b"detect-throughput-link-secret-32"
    return [replace(s, identity=conceal(s.identity, key)) for s in kit_sightings(count)]


async def _append(url: str, prefix: str, sightings: list[Sighting], rate: float) -> None:
    """Append every sighting (stamped now); ``rate > 0``: paced at that many a second."""
    backend = build_backend(url, prefix=prefix, timeout=2.0)
    assert backend.redis is not None
    metrics = Metrics()
    sink = RedisSink(backend.redis, backend.mux, backend.keys, metrics, shards=SHARDS, maxlen=10**7)
    codec = SightingCodec()
    started, sent = time.monotonic(), 0
    while sent < len(sightings):
        due = len(sightings) if rate <= 0 else int((time.monotonic() - started) * rate) + 1
        for s in sightings[sent:due]:
            s = replace(s, now=time.time())
            sink.append(s.identity.account_id, codec.encode(s))
        sent = max(sent, min(due, len(sightings)))
        await asyncio.sleep(0.005 if rate > 0 else 0)
    await sink.drain()
    await backend.close()
    appended = metrics.registry.get_sample_value("gateway_sightings_appended_total")
    assert appended == len(sightings), f"appended {appended} of {len(sightings)}"


def run(
    url: str,
    sightings: list[Sighting],
    rate: float,
    port: int,
    profile: str | None = None,
    warmup: Sequence[Sighting] = (),
    linger: float | None = None,
) -> None:
    """Append ``warmup`` and wait until it is applied (unmeasured), then measure
    ``sightings``."""
    prefix = f"dgbench{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_STORE=url,
        GATEWAY_STORE_PREFIX=prefix,
        GATEWAY_LINK_SECRET=uuid.uuid4().hex,
        GATEWAY_SIGHTING_SHARDS=str(SHARDS),
        GATEWAY_DETECT_LISTEN=f"127.0.0.1:{port}",
        GATEWAY_LOG_LEVEL="warning",
        OPENBLAS_NUM_THREADS="1",
    )
    if linger is not None:
        env["GATEWAY_DETECT_LINGER"] = str(linger)
    profiled = ["-m", "cProfile", "-o", profile] if profile else []
    worker = subprocess.Popen([sys.executable, *profiled, "-m", "gateway", "detect"], env=env)
    counters = RedisCounters(url)
    total = len(warmup) + len(sightings)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                first = _page(port)
                break
            except OSError:
                assert worker.poll() is None and time.monotonic() < deadline, "no worker"
                time.sleep(0.2)
        if warmup:
            asyncio.run(_append(url, prefix, list(warmup), rate))
            first = _applied(port, len(warmup), deadline)
        redis_before, started = counters.snapshot(), time.monotonic()
        asyncio.run(_append(url, prefix, sightings, rate))
        appended = time.monotonic() - started
        last = _applied(port, total, deadline)
        wall = time.monotonic() - started
        redis_after = counters.snapshot()
    finally:
        worker.terminate()
        worker.wait(15)
        counters.remove_prefix(prefix)
    before, after = _metrics(first), _metrics(last)
    cpu = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
    redis_cpu = redis_after.cpu_s - redis_before.cpu_s
    executed = RedisCounters.delta(redis_before.commands, redis_after.commands)
    commands = sum(executed.values())
    lags = parse_metrics(first).buckets.get(LAG, {}), parse_metrics(last).buckets.get(LAG, {})
    p50, p99 = (histogram_quantile(*lags, q) for q in (0.5, 0.99))
    batches = after["gateway_detect_batches_total"] - before.get("gateway_detect_batches_total", 0)
    accounts = len({s.identity.account_id for s in sightings})
    total = len(sightings)
    pace = f"at {rate:.0f}/s" if rate > 0 else "as a backlog"
    print(
        f"sightings {total} ({accounts} accounts) {pace} after {len(warmup)} unmeasured, "
        f"appended in {appended:.2f}s"
    )
    print(f"{'':24}{'worker':>12}{'redis':>12}")
    print(f"{'CPU seconds':24}{cpu:>12.2f}{redis_cpu:>12.2f}")
    print(f"{'CPU us per sighting':24}{cpu / total * 1e6:>12.0f}{redis_cpu / total * 1e6:>12.0f}")
    print(f"{'commands per sighting':24}{'':>12}{commands / total:>12.1f}")
    top = sorted(executed.items(), key=lambda kv: -kv[1])[:8]
    print("  most: " + ", ".join(f"{name} {calls / total:.2f}" for name, calls in top))
    print(
        f"wall {wall:.2f}s ({total / wall:.0f} sightings/s), batches {batches:.0f} "
        f"(mean {total / max(batches, 1):.0f} sightings), lag p50 {_s(p50)} p99 {_s(p99)}"
    )


def _applied(port: int, total: int, deadline: float) -> str:
    """The worker's metrics page once it has applied ``total`` sightings."""
    while _metrics(page := _page(port)).get("gateway_detect_sightings_total", 0) < total:
        assert time.monotonic() < deadline, f"applied {_metrics(page)} of {total}"
        time.sleep(0.1)
    return page


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--per-account", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.0, help="kit sightings a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="of appending at --rate")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--own-redis", action="store_true", help="a private redis-server")
    parser.add_argument("--port", type=int, default=19464, help="the worker's /metrics port")
    parser.add_argument("--profile", help="write the worker's cProfile statistics here")
    parser.add_argument("--linger", type=float, help="the worker's GATEWAY_DETECT_LINGER")
    args = parser.parse_args()
    warmup: list[Sighting] = []
    if args.rate > 0:
        sightings = kit_traffic(int(args.rate * args.seconds))
        firsts = {s.identity.account_id: s for s in reversed(sightings)}
        warmup = sorted(firsts.values(), key=lambda s: s.now)
    else:
        sightings = backlog(args.accounts, args.per_account)
    if not args.own_redis:
        run(args.redis, sightings, args.rate, args.port, args.profile, warmup, args.linger)
        return
    with tempfile.TemporaryDirectory(prefix="dg-detect-throughput-") as tmp:
        proc, url = start_redis(Path(tmp))
        try:
            run(url, sightings, args.rate, args.port, args.profile, warmup, args.linger)
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
