"""The shared Redis client, built from a URL: lazily connecting, short timeouts.

``redis://host:port/db``            one Redis (``rediss://`` for TLS, ``unix://`` too)
``redis+cluster://host:port[,h:p]`` a Redis Cluster (``rediss+cluster://`` for TLS)

Nothing connects here: the first command does, so start-up never fails on a Redis that is
down. The client returns bytes (``decode_responses=False``). Budgets, the cluster graph,
observations, detection state and accounts share one client per process.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ClusterDownError, SlotNotCoveredError
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.redis.packing import connection_class

RedisClient = Redis | RedisCluster
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def _retry() -> Retry:
    """One immediate retry on a connection error (a pooled connection a restarted Redis
    closed), never after a timeout: the command may have run, and a budget script run twice
    charges twice."""
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


class _Cluster(RedisCluster):
    """A cluster client that does not re-send a command that timed out (see :func:`_retry`)."""

    ERRORS_ALLOW_RETRY = (  # type: ignore[assignment]  # the base class spells out its own
        RedisConnectionError,
        ClusterDownError,
        SlotNotCoveredError,
    )


def redis_client(url: str, *, timeout: float = 0.25, max_connections: int = 64) -> RedisClient:
    """A lazily connecting client with short timeouts and one immediate retry.

    A plain Redis gets a blocking pool: a burst beyond ``max_connections`` waits up to
    ``timeout`` for a connection instead of failing. Cluster node pools fail when exhausted,
    so the budget store bounds its calls in flight (see ``gateway.limiter.factory``).
    """
    parts = urlsplit(url)
    if parts.scheme in CLUSTER_SCHEMES:
        nodes = []
        for hostport in parts.netloc.rpartition("@")[2].split(","):
            host, _, port = hostport.rpartition(":")
            nodes.append(ClusterNode(host or "127.0.0.1", int(port or 6379)))
        return _Cluster(
            startup_nodes=nodes,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=parts.scheme == "rediss+cluster",
            max_connections=max_connections,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=_retry(),
        )
    if parts.scheme in ("redis", "rediss", "unix"):
        packing = connection_class(parts.scheme)  # hiredis encodes the commands
        pool = BlockingConnectionPool.from_url(
            url,
            **({"connection_class": packing} if packing is not None else {}),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=_retry(),
            max_connections=max_connections,
            timeout=timeout,
        )
        return Redis.from_pool(pool)
    raise ValueError(f"unsupported store URL scheme {parts.scheme!r} (memory, redis, rediss, "
                     "unix, redis+cluster, rediss+cluster)")  # fmt: skip
