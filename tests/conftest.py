"""Shared fixtures: a real Redis (and a real Redis Cluster) for the tests that need one.

* ``redis_url`` (session): ``REDIS_URL`` if set; else 127.0.0.1:6379 when it answers PING;
  else a redis-server started on a free loopback port for the session; else the test fails
  with a message saying how to get one.
* ``redis_cluster_url`` (session): ``REDIS_CLUSTER_URL`` if set, else a 3-node cluster
  started for the session (``redis+cluster://host:port,...``).
* ``key_prefix``: a unique key prefix per test; ``redis_client`` deletes its keys afterwards,
  and so does ``store_prefix`` (the same prefix, for a gateway or component that writes to the
  shared Redis through its own client). Every test that writes to the shared Redis takes its
  prefix from these fixtures: at the end of the session, a key left under any prefix handed
  out fails the run with the list of leftovers (``prefixes``).
* ``redis_servers``: starts extra throwaway servers (``redis_servers()`` -> RedisServer)
  and stops them after the test (failure tests kill and restart them).
* every test reads the bundled sample corpora (``loadtest/corpora/``), whatever the
  environment: a ``DG_CORPORA_DIR`` set for the full evaluation runs is removed
  (``_sample_corpora``; tests' expectations are about the sample's prompts).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio import Redis
from redis_servers import (
    HOST,
    Prefixes,
    RedisClusterServers,
    RedisServer,
    answers_ping,
    delete_prefix,
)

from loadtest.corpus import FULL_ENV


@pytest.fixture(scope="session", autouse=True)
def _sample_corpora() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:  # session-wide: module fixtures load corpora
        patch.delenv(FULL_ENV, raising=False)
        yield


def _fail(what: str, exc: Exception) -> None:
    pytest.fail(
        f"{what}: {exc}. Tests of Redis behaviour need a real redis-server: set REDIS_URL, run "
        "one on 127.0.0.1:6379, or install redis-server (apt-get install redis-server).",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def prefixes() -> Iterator[Prefixes]:
    registry = Prefixes()
    yield registry
    left = registry.leftovers()
    if left:
        pytest.fail(
            f"{len(left)} Redis keys left behind by tests (delete them in the test, or take the "
            "prefix from the redis_client / store_prefix fixtures):\n" + "\n".join(left[:50]),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def redis_url(prefixes: Prefixes) -> Iterator[str]:
    env = os.environ.get("REDIS_URL")
    if env:
        prefixes.url = env
        yield env
        return
    if answers_ping(HOST, 6379):
        prefixes.url = f"redis://{HOST}:6379/0"
        yield prefixes.url
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
def key_prefix(prefixes: Prefixes) -> str:
    """Unique per test, safe inside Redis keys (no braces, no spaces)."""
    return prefixes.new()


@pytest.fixture
async def redis_client(redis_url: str, key_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await delete_prefix(client, key_prefix)
        await client.aclose()


@pytest.fixture
def store_prefix(redis_client: Redis, key_prefix: str) -> str:
    """``key_prefix`` for a gateway (``store_prefix=``) or a component with its own client
    on the shared Redis: ``redis_client`` deletes every key under it after the test."""
    return key_prefix


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
