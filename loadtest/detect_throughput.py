"""One ``gateway detect`` process against a backlog: what a sighting costs end to end.

Starts ``gateway detect`` (loopback, the shipped policy) on a Redis, appends
``--accounts x --per-account`` sightings through the gateway's own sink (sharded ``XADD``),
waits until the worker reports them all applied, and prints, side by side: the worker's CPU
per sighting (``process_cpu_seconds_total`` from its ``/metrics``), the Redis server's CPU per
sighting (``INFO cpu``: the appends and the apply scripts; other clients of that Redis count
too), wall time, batches, mean lag. Keys go under a fresh prefix, deleted at the end.

``python -m loadtest.detect_throughput [--accounts 200] [--per-account 50] [--redis URL]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any

import redis
from prometheus_client.parser import text_string_to_metric_families

from gateway.detection.batch import Sighting
from gateway.limiter.factory import build_backend
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.observability.metrics import Metrics
from gateway.sightings.codec import SightingCodec
from gateway.sightings.sink_redis import RedisSink

SHARDS = 8
TIMEOUT = 300.0  # a bound on the run, not a measurement


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        text = response.read().decode()
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


async def _append(url: str, prefix: str, accounts: int, per_account: int) -> None:
    backend = build_backend(url, prefix=prefix, timeout=2.0)
    assert backend.redis is not None
    sink = RedisSink(
        backend.redis, backend.mux, backend.keys, Metrics(), shards=SHARDS, maxlen=10**7
    )
    codec = SightingCodec()
    for i in range(per_account):
        for account in range(accounts):
            sink.append(f"acct-{account}", codec.encode(_sighting(account, i)))
        await asyncio.sleep(0)
    await sink.drain()
    keys = [backend.keys.sightings(n) for n in range(SHARDS)]
    await backend.close()
    client = redis.Redis.from_url(url)
    assert sum(int(client.xlen(k)) for k in keys) == accounts * per_account


def _redis_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def run(url: str, accounts: int, per_account: int, port: int) -> None:
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
    worker = subprocess.Popen([sys.executable, "-m", "gateway", "detect"], env=env)
    client = redis.Redis.from_url(url)
    total = accounts * per_account
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                before = _metrics(port)
                break
            except OSError:
                assert worker.poll() is None and time.monotonic() < deadline, "no worker"
                time.sleep(0.2)
        redis_before, started = _redis_cpu(client), time.monotonic()
        asyncio.run(_append(url, prefix, accounts, per_account))
        appended = time.monotonic() - started
        while (after := _metrics(port)).get("gateway_detect_sightings_total", 0) < total:
            assert time.monotonic() < deadline, f"applied {after} of {total}"
            time.sleep(0.1)
        wall = time.monotonic() - started
        redis_cpu = _redis_cpu(client) - redis_before
    finally:
        worker.terminate()
        worker.wait(15)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
    cpu = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
    lag = after["gateway_detect_lag_seconds_sum"] / after["gateway_detect_lag_seconds_count"]
    print(f"sightings {total} ({accounts} accounts), appended in {appended:.2f}s")
    print(f"{'':24}{'worker':>12}{'redis':>12}")
    print(f"{'CPU seconds':24}{cpu:>12.2f}{redis_cpu:>12.2f}")
    print(f"{'CPU us per sighting':24}{cpu / total * 1e6:>12.0f}{redis_cpu / total * 1e6:>12.0f}")
    print(
        f"wall {wall:.2f}s ({total / wall:.0f} sightings/s), "
        f"batches {after['gateway_detect_batches_total']:.0f}, mean lag {lag:.2f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--per-account", type=int, default=50)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--port", type=int, default=19464, help="the worker's /metrics port")
    args = parser.parse_args()
    run(args.redis, args.accounts, args.per_account, args.port)


if __name__ == "__main__":
    main()
