"""The drill's processes: its own redis-server, the mock upstream and two gateways.

Everything binds to 127.0.0.1 on free ports. One gateway fails open, the other closed; both
share the Redis (different key prefixes), so one Redis fault drills both modes at once.
Redis and the mock can be killed (SIGKILL) and restarted on the same port, or frozen
(SIGSTOP) and thawed (SIGCONT). Upstream timeouts are small (``UPSTREAM_*``) so that the
upstream drills end in seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from gateway.auth.api_keys import new_key
from loadtest.bench_procs import Proc, free_port, start, wait_http

HOST = "127.0.0.1"
ADMIN_TOKEN = "faults-admin-token"
UPSTREAM_CONNECT_TIMEOUT = 0.5
UPSTREAM_READ_TIMEOUT = 1.0
SLOTS = 64  # the streaming tier's concurrency limit
HUGE = 1_000_000_000
MODES = ("open", "closed")


def policy(mode: str) -> dict[str, object]:
    """Budgets nothing reaches (the drills measure faults, not refusals)."""
    requests = {"rate": f"{HUGE}/minute", "burst": HUGE}
    tiers = {"load": {"requests": requests}, "stream": {"requests": requests, "concurrency": SLOTS}}
    return {
        "version": 1,
        "defaults": {"tier": "load", "failure_mode": mode, "max_tokens": 16},
        "tiers": tiers,
        "detection": {"enabled": False},
    }


@dataclass
class Gateway:
    mode: str
    proc: Proc
    url: str
    admin: str
    prefix: str
    keys: dict[str, str] = field(default_factory=dict)


class Stack:
    """Start with :meth:`start`, always :meth:`stop` (kills whatever it started)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.redis_port = free_port()
        self.mock_port = free_port()
        self.redis: Proc | None = None
        self.mock: Proc | None = None
        self.gateways: dict[str, Gateway] = {}

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/0"

    @property
    def mock_url(self) -> str:
        return f"http://{HOST}:{self.mock_port}"

    def start(self) -> Stack:
        self.start_redis()
        self.start_mock()
        started = [self._spawn_gateway(mode) for mode in MODES]
        for gateway in started:
            wait_http(gateway.proc, f"{gateway.url}/healthz", timeout=60)
            self.gateways[gateway.mode] = gateway
        return self

    def start_redis(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("the fault drills need redis-server on PATH")
        argv = [binary, "--bind", HOST, "--port", str(self.redis_port), "--save", "",
                "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        self.redis = start("redis", argv, self.folder, python=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, self.redis_port), 0.5),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{self.redis.tail()}")

    def start_mock(self) -> None:
        listen = f"{HOST}:{self.mock_port}"
        self.mock = start("mock", ["gateway", "mock-upstream", "--listen", listen], self.folder)
        wait_http(self.mock, f"{self.mock_url}/mock/stats")

    def _spawn_gateway(self, mode: str) -> Gateway:
        policy_file = self.folder / f"policy-{mode}.yaml"
        policy_file.write_text(yaml.safe_dump(policy(mode)))
        keys_file = self.folder / f"keys-{mode}.yaml"
        keys = {
            tier: new_key(keys_file, f"{mode}-{tier}", tier=tier) for tier in ("load", "stream")
        }
        port, admin = free_port(), free_port()
        prefix = f"faults-{mode}-{os.getpid()}"
        env = {
            "GATEWAY_LISTEN": f"{HOST}:{port}",
            "GATEWAY_ADMIN_LISTEN": f"{HOST}:{admin}",
            "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
            "GATEWAY_UPSTREAM": self.mock_url,
            "GATEWAY_UPSTREAM_CONNECT_TIMEOUT": str(UPSTREAM_CONNECT_TIMEOUT),
            "GATEWAY_UPSTREAM_READ_TIMEOUT": str(UPSTREAM_READ_TIMEOUT),
            "GATEWAY_STORE": self.redis_url,
            "GATEWAY_STORE_PREFIX": prefix,
            "GATEWAY_POLICIES": str(policy_file),
            "GATEWAY_KEYS_FILE": str(keys_file),
            "GATEWAY_REPLICAS": "2",
            "GATEWAY_CHALLENGE_SECRET": "faults-challenge-secret-0123456789abcdef",
            "GATEWAY_LINK_SECRET": "faults-link-secret-0123456789abcdef",
            "GATEWAY_LOG_LEVEL": "error",
        }
        proc = start(f"gateway-{mode}", ["gateway", "serve"], self.folder, env)
        return Gateway(mode, proc, f"http://{HOST}:{port}", f"http://{HOST}:{admin}", prefix, keys)

    def kill_redis(self) -> None:
        _kill(self.redis)

    def freeze_redis(self, frozen: bool) -> None:
        _signal(self.redis, signal.SIGSTOP if frozen else signal.SIGCONT)

    def kill_mock(self) -> None:
        _kill(self.mock)

    def freeze_mock(self, frozen: bool) -> None:
        _signal(self.mock, signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self) -> None:
        for proc in [g.proc for g in self.gateways.values()] + [self.mock, self.redis]:
            if proc is not None:
                _signal(proc, signal.SIGCONT)  # a frozen process would not act on SIGTERM
                proc.stop()


async def fallbacks(http: aiohttp.ClientSession, gateway: Gateway) -> float:
    """The gateway's count of fail-open decisions (admin /metrics)."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with http.get(f"{gateway.admin}/metrics", headers=headers) as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("gateway_store_fallback_decisions_total "):
            return float(line.split()[1])
    raise RuntimeError("no gateway_store_fallback_decisions_total in /metrics")


def _kill(proc: Proc | None) -> None:
    if proc is not None and proc.popen.poll() is None:
        proc.popen.kill()
        proc.popen.wait(5)


def _signal(proc: Proc | None, sig: signal.Signals) -> None:
    if proc is not None and proc.popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)
