"""Real gateway and mock-upstream processes on free loopback ports, for multi-process tests.

:class:`ProcessGroup` starts ``python -m gateway serve`` / ``python -m gateway mock-upstream``
subprocesses, waits until each answers ``/healthz`` (or ``/mock/stats``), and kills every
one it started when the ``with`` block ends, whatever happened (SIGTERM, then SIGKILL).
Each process writes its output to a log file; a process that fails to start raises with the
tail of its log. Everything binds to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.auth.api_keys import new_key

HOST = "127.0.0.1"
ADMIN_TOKEN = "replica-admin-token"
CHALLENGE_SECRET = "replica-challenge-secret-0123456789abcdef"
START_TIMEOUT = 45.0  # importing the gateway on a busy 2-core machine can take a while


def port_pair() -> int:
    """A loopback port p with p + 1 free too (worker i serves admin on p + i), drawn below the
    kernel's ephemeral range: a port the OS hands out with bind(0) can be taken meanwhile as
    the local port of some process's outgoing connection ('address already in use')."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            low = int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10000, low - 2)
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind((HOST, port))
                second.bind((HOST, port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two adjacent free loopback ports")


def free_port() -> int:
    """A port the OS just handed out on loopback (free now; a start retries if taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class Proc:
    """One subprocess: its name, base URL, health URL and log file."""

    name: str
    popen: subprocess.Popen[bytes]
    url: str
    health: str
    log: Path
    admin_url: str | None = None

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; waits for the exit."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.popen.kill()
            self.popen.wait(5)


@dataclass(frozen=True)
class GatewayConfig:
    """What differs between gateway processes of a test (the rest is fixed here)."""

    store: str
    upstream: str
    policy_file: Path
    keys_file: Path
    store_prefix: str
    replicas: int = 1
    extra_env: Mapping[str, str] | None = None


def write_policy(folder: Path, text: str) -> Path:
    path = folder / "policy.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def write_keys(folder: Path, accounts: Mapping[str, str | None]) -> tuple[Path, dict[str, str]]:
    """A keys file with one key per ``account: tier``; returns the file and the keys."""
    path = folder / "keys.yaml"
    keys = {account: new_key(path, account, tier=tier) for account, tier in accounts.items()}
    return path, keys


class ProcessGroup:
    """Subprocesses started by one test; all of them are stopped when the block ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[Proc] = []
        folder.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive:
                with contextlib.suppress(ProcessLookupError):
                    proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(max(0.0, deadline - time.monotonic()))
            proc.stop(grace=0.1)  # SIGKILL what is still there
        self.procs.clear()

    def _spawn(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        url: str,
        health: str,
        admin_url: str | None = None,
    ) -> Proc:
        log = self.folder / f"{name}.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        handle = log.open("ab")
        try:
            popen = subprocess.Popen(
                [sys.executable, "-m", "gateway", *argv],
                env={**base, "OPENBLAS_NUM_THREADS": "1", **env},
                stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        finally:
            handle.close()
        proc = Proc(name, popen, url, health, log, admin_url)
        self.procs.append(proc)
        return proc

    def wait_ready(self, procs: list[Proc], timeout: float = START_TIMEOUT) -> list[Proc]:
        """Wait until every process answers its health URL; returns those that died."""
        deadline = time.monotonic() + timeout
        pending = list(procs)
        dead: list[Proc] = []
        while pending and time.monotonic() < deadline:
            for proc in list(pending):
                if not proc.alive:
                    pending.remove(proc)
                    dead.append(proc)
                elif _answers(proc.health):
                    pending.remove(proc)
            if pending:
                time.sleep(0.1)
        if pending:
            names = ", ".join(p.name for p in pending)
            raise RuntimeError(f"{names} not healthy after {timeout}s:\n{pending[0].log_tail()}")
        return dead

    def start_mock(self, name: str = "mock", *args: str) -> Proc:
        """The mock upstream (``args``: extra ``mock-upstream`` options)."""
        for _ in range(3):
            port = free_port()
            url = f"http://{HOST}:{port}"
            proc = self._spawn(
                name,
                ["mock-upstream", "--listen", f"{HOST}:{port}", *args],
                {},
                url,
                f"{url}/mock/stats",
            )
            if not self.wait_ready([proc]):
                return proc
            self.procs.remove(proc)
        raise RuntimeError(f"{name} could not start:\n{proc.log_tail()}")

    def start_gateways(
        self, config: GatewayConfig, count: int = 1, name: str = "gateway"
    ) -> list[Proc]:
        """``count`` gateway processes with the same settings, each on its own ports;
        started together, then waited for together (a port lost to a race is retried)."""
        started: list[Proc] = []
        wanted = [f"{name}{i}" for i in range(count)]
        for _ in range(3):
            batch = [self._spawn_gateway(config, n) for n in wanted]
            dead = self.wait_ready(batch)
            started += [p for p in batch if p not in dead]
            for proc in dead:
                self.procs.remove(proc)
            if not dead:
                return started
            wanted = [p.name for p in dead]
        raise RuntimeError(f"{wanted} could not start:\n{dead[0].log_tail()}")

    def _spawn_gateway(self, config: GatewayConfig, name: str) -> Proc:
        port, admin = free_port(), free_port()
        env = {
            "GATEWAY_LISTEN": f"{HOST}:{port}",
            "GATEWAY_ADMIN_LISTEN": f"{HOST}:{admin}",
            "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
            "GATEWAY_UPSTREAM": config.upstream,
            "GATEWAY_STORE": config.store,
            "GATEWAY_STORE_PREFIX": config.store_prefix,
            "GATEWAY_POLICIES": str(config.policy_file),
            "GATEWAY_KEYS_FILE": str(config.keys_file),
            "GATEWAY_REPLICAS": str(config.replicas),
            "GATEWAY_CHALLENGE_SECRET": CHALLENGE_SECRET,
            "GATEWAY_LINK_SECRET": "replica-link-secret-0123456789abcdef",
            "GATEWAY_LOG_LEVEL": "warning",
            **(config.extra_env or {}),
        }
        url = f"http://{HOST}:{port}"
        return self._spawn(
            name, ["serve"], env, url, f"{url}/healthz", admin_url=f"http://{HOST}:{admin}"
        )

    def start_detect(self, env: Mapping[str, str], name: str = "detect") -> Proc:
        """One ``gateway detect`` worker (``env``: its settings); waits until it answers
        ``/healthz`` (a port lost to a race is retried)."""
        for _ in range(3):
            port = free_port()
            url = f"http://{HOST}:{port}"
            settings = {"GATEWAY_DETECT_LISTEN": f"{HOST}:{port}", **env}
            proc = self._spawn(name, ["detect"], settings, url, f"{url}/healthz")
            if not self.wait_ready([proc]):
                return proc
            self.procs.remove(proc)
        raise RuntimeError(f"{name} could not start:\n{proc.log_tail()}")
