"""Real redis-server processes for tests: single throwaway servers and a 3-node cluster.

Used by ``tests/conftest.py``; tests that kill and restart a server (failure tests) start
their own :class:`RedisServer`. Servers bind to 127.0.0.1 only, keep nothing on disk
(``--save "" --appendonly no``) and live in a temporary directory. :class:`Prefixes` hands out
the key prefixes of tests on the shared Redis and finds the keys they left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and reads commands, and never answers (a Redis that
    stopped answering)."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(30)

    server = await asyncio.start_server(swallow, HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def answers_ping(host: str, port: int, timeout: float = 0.3) -> bool:
    """True when a Redis on host:port answers PING (raw RESP, no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


async def delete_prefix(client: Redis | RedisCluster, prefix: str) -> None:
    """Delete every key starting with ``prefix`` (one key at a time: cluster-safe)."""
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    for key in keys:
        await client.delete(key)


class Prefixes:
    """Every key prefix handed to a test in this session, and the shared Redis they went to."""

    def __init__(self) -> None:
        self.issued: set[str] = set()
        self.url: str | None = None

    def new(self) -> str:
        """Unique, safe inside Redis keys (no braces, no spaces)."""
        prefix = f"t{uuid.uuid4().hex[:12]}"
        self.issued.add(prefix)
        return prefix

    def leftovers(self) -> list[str]:
        """Keys still present under an issued prefix (one SCAN of the database)."""
        if self.url is None or not self.issued:
            return []
        lengths = {len(p) for p in self.issued}
        try:
            client = SyncRedis.from_url(self.url, socket_timeout=5)
            with client:
                keys = [k.decode(errors="replace") for k in client.scan_iter(count=1000)]
        except RedisError:  # a server started for the session is gone, and its keys with it
            return []
        return sorted(k for k in keys if any(k[:n] in self.issued for n in lengths))


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A free loopback port (and port + 10000 too, for a cluster node's bus)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 45000)
        if _port_free(port) and (not cluster_bus or _port_free(port + 10000)):
            return port
    raise RuntimeError("no free loopback port found")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError(
            "redis-server not found: install it (apt-get install redis-server) "
            "or point REDIS_URL at a running Redis"
        )
    return found


class RedisServer:
    """One redis-server process on a loopback port. ``kill`` + ``start`` keeps the port."""

    def __init__(self, port: int | None = None, *, args: Sequence[str] = ()) -> None:
        self.port = port or free_port(cluster_bus=bool(args))
        self._args = list(args)
        self._dir = Path(tempfile.mkdtemp(prefix=f"redis-{self.port}-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> RedisServer:
        command = [
            redis_server_binary(),
            "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", str(self._dir), "--daemonize", "no", "--loglevel", "warning",
            *self._args,
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self._dir
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers_ping(HOST, self.port):
                return self
            if self._proc.poll() is not None:
                error = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"redis-server on port {self.port} exited: {error.strip()}")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout}s")

    def kill(self) -> None:
        """SIGKILL: the abrupt death the resilience tests need."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None

    def freeze(self) -> None:
        """SIGSTOP: the socket stays open and accepts writes, nothing answers."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze` (harmless otherwise)."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()  # a frozen server would not act on SIGTERM
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.cleanup()


class RedisClusterServers:
    """A real Redis Cluster of ``nodes`` masters (no replicas) on loopback ports."""

    def __init__(self, nodes: int = 3) -> None:
        self.servers: list[RedisServer] = []
        for _ in range(nodes):
            port = free_port(cluster_bus=True)
            while any(s.port == port for s in self.servers):
                port = free_port(cluster_bus=True)
            self.servers.append(
                RedisServer(
                    port,
                    args=[
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", f"nodes-{port}.conf",
                        "--cluster-node-timeout", "3000",
                    ],
                )
            )  # fmt: skip

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{HOST}:{s.port}" for s in self.servers)

    def start(self, timeout: float = 30.0) -> RedisClusterServers:
        try:
            for server in self.servers:
                server.start()
            cli = shutil.which("redis-cli")
            if cli is None:
                raise RuntimeError("redis-cli not found (it comes with redis-server / redis-tools)")
            addresses = [f"{HOST}:{s.port}" for s in self.servers]
            created = subprocess.run(
                [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0",
                 "--cluster-yes"],
                capture_output=True, timeout=timeout, check=False,
            )  # fmt: skip
            if created.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-500:]!r}")
            self._wait_ok(cli, timeout)
        except BaseException:
            self.cleanup()
            raise
        return self

    def _wait_ok(self, cli: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.servers)
        while pending and time.monotonic() < deadline:
            server = pending[0]
            info = subprocess.run(
                [cli, "-h", HOST, "-p", str(server.port), "cluster", "info"],
                capture_output=True, timeout=5, check=False,
            )  # fmt: skip
            if b"cluster_state:ok" in info.stdout:
                pending.pop(0)
            else:
                time.sleep(0.05)
        if pending:
            raise RuntimeError(f"cluster not ok after {timeout}s")

    def cleanup(self) -> None:
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.cleanup()
