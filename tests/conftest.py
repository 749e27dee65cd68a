"""Shared fixtures: a real Redis (and a real Redis Cluster) for the tests that need one.

* ``redis_url`` (session): ``REDIS_URL`` if set; else 127.0.0.1:6379 when it answers PING;
  else a redis-server started on a free loopback port for the session; else the test fails
  with a message saying how to get one.
* ``redis_cluster_url`` (session): ``REDIS_CLUSTER_URL`` if set, else a 3-node cluster
  started for the session (``redis+cluster://host:port,...``).
* ``key_prefix``: a unique key prefix per test; ``redis_client`` deletes its keys afterwards.
* ``redis_servers``: starts extra throwaway servers (``redis_servers()`` -> RedisServer)
  and stops them after the test (failure tests kill and restart them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio import Redis
from redis_servers import (
    HOST,
    RedisClusterServers,
    RedisServer,
    answers_ping,
    delete_prefix,
)


def _fail(what: str, exc: Exception) -> None:
    pytest.fail(
        f"{what}: {exc}. Tests of Redis behaviour need a real redis-server: set REDIS_URL, run "
        "one on 127.0.0.1:6379, or install redis-server (apt-get install redis-server).",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    env = os.environ.get("REDIS_URL")
    if env:
        yield env
        return
    if answers_ping(HOST, 6379):
        yield f"redis://{HOST}:6379/0"
        return
    try:
        server = RedisServer().start()
    except Exception as exc:
        _fail("no Redis available", exc)
        raise
    try:
        yield server.url
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    env = os.environ.get("REDIS_CLUSTER_URL")
    if env:
        yield env
        return
    try:
        cluster = RedisClusterServers(3).start()
    except Exception as exc:
        _fail("could not start a Redis Cluster", exc)
        raise
    try:
        yield cluster.url
    finally:
        cluster.cleanup()


@pytest.fixture
def key_prefix() -> str:
    """Unique per test, safe inside Redis keys (no braces, no spaces)."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(redis_url: str, key_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await delete_prefix(client, key_prefix)
        await client.aclose()


@pytest.fixture
def redis_servers() -> Iterator[Callable[[], RedisServer]]:
    started: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer().start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.cleanup()
