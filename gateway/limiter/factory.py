"""Build the budget store (and the shared Redis connection) from a URL.

``memory://``                       one process, :class:`MemoryBudgetStore`
``redis://host:port/db``            one Redis (``rediss://`` for TLS, ``unix://`` too)
``redis+cluster://host:port[,h:p]`` a Redis Cluster (``rediss+cluster://`` for TLS)

Nothing connects here: the first command does, so start-up never fails on a Redis that is
down. The client returns bytes (``decode_responses=False``); other subsystems share it
through :attr:`StoreBackend.redis` and build their keys with :attr:`StoreBackend.keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ClusterDownError, SlotNotCoveredError
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.clock import Clock, SystemClock
from gateway.limiter.guard import LAG_ALLOWANCE, StoreGuard
from gateway.limiter.keys import KeyBuilder
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.packing import connection_class
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.limiter.scripts import RedisClient
from gateway.limiter.store import BudgetStore
from gateway.model import FailureMode

STORE_TIMEOUT = 0.25
"""Default seconds a budget call may take before it counts as a store failure
(``GATEWAY_STORE_TIMEOUT_MS``).

Measured from the gateway, so it would include CPU contention and the event loop's
queueing, were it not for :mod:`gateway.limiter.deadline`: a deadline whose timer runs late
waits once more for as long as the loop was late (up to ``LAG_ALLOWANCE`` times more), so a
reply that already arrived is read first. A frozen Redis (its socket open, no answers) costs
a request at most this long: the breaker then opens (see :mod:`gateway.limiter.guard`)."""


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


@dataclass(frozen=True, slots=True)
class StoreBackend:
    """The budget store, the Redis client it uses (None for memory) and the key layout."""

    budgets: BudgetStore
    redis: RedisClient | None
    keys: KeyBuilder
    guard: StoreGuard | None = None  # deadlines and breaker of a resilient store

    async def close(self) -> None:
        """Close the store (and with it the Redis connection pool)."""
        await self.budgets.close()


def redis_client(url: str, *, timeout: float = 0.25, max_connections: int = 64) -> RedisClient:
    """A lazily connecting client with short timeouts and one immediate retry.

    A plain Redis gets a blocking pool: a burst beyond ``max_connections`` waits up to
    ``timeout`` for a connection instead of failing. Cluster node pools fail when exhausted,
    so :func:`build_backend` bounds the store's calls in flight to ``max_connections``.
    """
    parts = urlsplit(url)
    if parts.scheme in ("redis+cluster", "rediss+cluster"):
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


def build_backend(
    url: str,
    *,
    clock: Clock | None = None,
    prefix: str = "dg",
    timeout: float = STORE_TIMEOUT,
    max_connections: int = 64,
    failure_mode: Callable[[], FailureMode] | None = None,
    replicas: int = 1,
    settle_linger: float = 0.0,
    on_error: Callable[[str, BaseException], None] | None = None,
    on_fallback: Callable[[str], None] | None = None,
    on_state: Callable[[bool], None] | None = None,
) -> StoreBackend:
    """The store for ``url``. ``clock=None``: Redis scripts use the server's TIME.

    With ``failure_mode`` a Redis store is wrapped in :class:`ResilientStore` (``timeout``
    is then also its per-operation timeout). ``settle_linger``: see :class:`RedisBudgetStore`.
    """
    keys = KeyBuilder(prefix)
    if urlsplit(url).scheme == "memory":
        return StoreBackend(MemoryBudgetStore(clock or SystemClock()), None, keys)
    # wrapped: the store's deadline decides, the client's (longer) timeouts are a backstop
    # that never fires first when the event loop runs late (see gateway.limiter.deadline)
    backstop = timeout * (LAG_ALLOWANCE + 1) if failure_mode is not None else timeout
    # a cluster's node pools fail at once when exhausted: the store's own calls are bounded
    # to max_connections, and the pools keep as many again for the rest of the shared client
    # (cluster graph, detection, linker), which would otherwise fail budget calls
    cluster = urlsplit(url).scheme in ("redis+cluster", "rediss+cluster")
    pool = 2 * max_connections if cluster else max_connections
    client = redis_client(url, timeout=backstop, max_connections=pool)
    bound = max_connections if cluster else None
    store: BudgetStore = RedisBudgetStore(
        client, clock, max_in_flight=bound, settle_linger=settle_linger
    )
    guard = None
    if failure_mode is not None:
        store = ResilientStore(
            store,
            clock or SystemClock(),
            failure_mode,
            replicas,
            op_timeout=timeout,
            on_error=on_error,
            on_fallback=on_fallback,
            on_state=on_state,
        )
        guard = store.guard
    return StoreBackend(store, client, keys, guard)


def build_store(url: str, *, clock: Clock | None = None, prefix: str = "dg") -> BudgetStore:
    """Just the budget store (see :func:`build_backend` for the shared client)."""
    return build_backend(url, clock=clock, prefix=prefix).budgets
