"""``gateway serve --workers 2``: the admin ``/metrics`` of either worker shows the instance.

Real processes on loopback: the mock upstream and one ``serve`` with two workers (in-memory
store). Requests spread over both workers by SO_REUSEPORT; both admin listeners report the
same merged totals. Killing a worker keeps its counts and drops its live gauges; stopping
``serve`` removes the private metrics directory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from metrics_text import samples_by_name
from replica_procs import (
    ADMIN_TOKEN,
    HOST,
    GatewayConfig,
    Proc,
    ProcessGroup,
    port_pair,
    write_keys,
    write_policy,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

REQUESTS = 40
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
POLICY = """
version: 1
defaults: {tier: free, failure_mode: open, max_tokens: 64}
tiers:
  free:
    requests: {rate: 100000/minute, burst: 100000}
detection: {enabled: false}
clusters: {enabled: false}
"""


@dataclass
class Instance:
    serve: Proc
    admin_ports: tuple[int, int]
    key: str


def _admin_port_pair() -> int:
    return port_pair()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    keys_file, keys = write_keys(tmp_path, {"acme": "free"})
    admin = _admin_port_pair()
    with ProcessGroup(tmp_path) as group:
        mock = group.start_mock()
        config = GatewayConfig(
            store="memory://",
            upstream=mock.url,
            store_prefix="mw",
            policy_file=write_policy(tmp_path, POLICY),
            keys_file=keys_file,
            extra_env={"GATEWAY_WORKERS": "2", "GATEWAY_ADMIN_LISTEN": f"{HOST}:{admin}"},
        )
        (serve,) = group.start_gateways(config)
        ports = (admin, admin + 1)
        _wait_for_admins(serve, ports)
        yield Instance(serve, ports, keys["acme"])


def _get(url: str, token: str | None = ADMIN_TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return int(r.status), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait_for_admins(serve: Proc, ports: tuple[int, ...], timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ports)
    while pending and time.monotonic() < deadline and serve.alive:
        for port in list(pending):
            try:
                if _get(f"http://{HOST}:{port}/metrics")[0] == 200:
                    pending.discard(port)
            except OSError:
                pass
        time.sleep(0.1)
    assert not pending, f"admin ports {pending} not answering:\n{serve.log_tail()}"


def _scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples by name from the admin ``/metrics`` of the worker on ``port``."""
    status, text = _get(f"http://{HOST}:{port}/metrics")
    assert status == 200, text
    return samples_by_name(text)


def _total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str) -> float:
    return sum(value for _, value in samples.get(name, []))


async def _send(url: str, key: str, count: int) -> list[int]:
    """``count`` requests, each on a new connection (so the kernel spreads them)."""
    connector = aiohttp.TCPConnector(limit=8, force_close=True)
    timeout = aiohttp.ClientTimeout(total=60)
    payload = {"model": "mock-gpt", "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one() -> int:
            async with http.post(f"{url}/v1/chat/completions", json=payload, headers=headers) as r:
                await r.read()
                return r.status

        return list(await asyncio.gather(*(one() for _ in range(count))))


def _workers(parent: int) -> list[int]:
    """Pids of the ``serve`` process's worker children (not multiprocessing's helpers)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    pids = []
    for pid in map(int, children):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"--multiprocessing-fork" in cmdline and b"resource_tracker" not in cmdline:
            pids.append(pid)
    return pids


def _metrics_dir(pid: int) -> Path:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    values = [e.split(b"=", 1)[1] for e in environ if e.startswith(METRICS_ENV.encode() + b"=")]
    assert len(values) == 1, f"worker {pid} has no {METRICS_ENV}"
    return Path(values[0].decode())


def test_every_worker_reports_the_instance_totals(instance: Instance) -> None:
    statuses = asyncio.run(_send(instance.serve.url, instance.key, REQUESTS))
    assert statuses == [200] * REQUESTS
    first, second = (_scrape(port) for port in instance.admin_ports)
    for samples in (first, second):
        assert _total(samples, "gateway_requests_total") == REQUESTS
        assert _total(samples, "gateway_request_duration_seconds_count") == REQUESTS
        assert samples["gateway_requests_in_flight"] == [({}, 0.0)]
        assert samples["gateway_store_available"] == [({}, 1.0)]  # one series, no pid label
    for port in instance.admin_ports:  # the admin token still guards /metrics
        assert _get(f"http://{HOST}:{port}/metrics", token=None)[0] == 401
        assert _get(f"http://{HOST}:{port}/metrics", token="wrong")[0] == 401


def test_a_dead_workers_counts_stay_and_the_directory_goes(instance: Instance) -> None:
    serve_pid = instance.serve.popen.pid
    workers = _workers(serve_pid)
    assert len(workers) == 2
    folder = _metrics_dir(workers[0])
    assert _metrics_dir(workers[1]) == folder
    mode = folder.stat().st_mode
    assert stat.S_IMODE(mode) == 0o700 and folder.stat().st_uid == os.getuid()

    statuses = asyncio.run(_send(instance.serve.url, instance.key, REQUESTS))
    assert statuses == [200] * REQUESTS
    victim = workers[1]
    assert list(folder.glob(f"gauge_live*_{victim}.db"))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while list(folder.glob(f"gauge_live*_{victim}.db")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(folder.glob(f"gauge_live*_{victim}.db")), "serve did not mark it dead"
    assert list(folder.glob(f"counter_{victim}.db"))  # its counts are kept

    answering = [p for p in instance.admin_ports if _answers_metrics(p)]
    assert len(answering) == 1
    samples = _scrape(answering[0])
    assert _total(samples, "gateway_requests_total") == REQUESTS
    assert samples["gateway_requests_in_flight"] == [({}, 0.0)]

    instance.serve.stop(grace=20)
    assert instance.serve.popen.returncode is not None
    assert not folder.exists()


def _answers_metrics(port: int) -> bool:
    try:
        return _get(f"http://{HOST}:{port}/metrics")[0] == 200
    except OSError:
        return False


def test_single_process_serve_refuses_a_preset_metrics_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            METRICS_ENV: str(tmp_path),
            "GATEWAY_LISTEN": f"{HOST}:0",
            "GATEWAY_POLICIES": str(write_policy(tmp_path, POLICY)),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert METRICS_ENV.encode() in done.stdout + done.stderr
    assert list(tmp_path.glob("*.db")) == []
