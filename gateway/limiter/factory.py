"""Build the budget store (and the shared Redis connection) from a URL.

``memory://``                       one process, :class:`MemoryBudgetStore`
``redis://host:port/db``            one Redis (``rediss://`` for TLS, ``unix://`` too)
``redis+cluster://host:port[,h:p]`` a Redis Cluster (``rediss+cluster://`` for TLS)

The Redis client comes from :func:`gateway.redis.client.redis_client` (nothing connects
here); other subsystems share it through :attr:`StoreBackend.redis` and build their keys
with :attr:`StoreBackend.keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.clock import Clock, SystemClock
from gateway.limiter.guard import LAG_ALLOWANCE, StoreGuard
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.limiter.store import BudgetStore
from gateway.model import FailureMode
from gateway.redis.client import CLUSTER_SCHEMES, RedisClient, redis_client
from gateway.redis.keys import KeyBuilder
from gateway.redis.mux import Multiplexer

STORE_TIMEOUT = 0.25
"""Default seconds a budget call may take before it counts as a store failure
(``GATEWAY_STORE_TIMEOUT_MS``).

Measured from the gateway, so it would include CPU contention and the event loop's
queueing, were it not for :mod:`gateway.limiter.deadline`: a deadline whose timer runs late
waits once more for as long as the loop was late (up to ``LAG_ALLOWANCE`` times more), so a
reply that already arrived is read first. A frozen Redis (its socket open, no answers) costs
a request at most this long: the breaker then opens (see :mod:`gateway.limiter.guard`)."""


@dataclass(frozen=True, slots=True)
class StoreBackend:
    """The budget store, the Redis client it uses (None for memory) and the key layout."""

    budgets: BudgetStore
    redis: RedisClient | None
    keys: KeyBuilder
    guard: StoreGuard | None = None  # deadlines and breaker of a resilient store
    mux: Multiplexer | None = None  # the budget store's auto-pipelined connection (plain Redis)

    async def close(self) -> None:
        """Close the store (and with it the Redis connection pool)."""
        await self.budgets.close()


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
    cluster = urlsplit(url).scheme in CLUSTER_SCHEMES
    pool = 2 * max_connections if cluster else max_connections
    client = redis_client(url, timeout=backstop, max_connections=pool)
    bound = max_connections if cluster else None
    redis_store = RedisBudgetStore(client, clock, max_in_flight=bound, settle_linger=settle_linger)
    store: BudgetStore = redis_store
    guard = None
    if failure_mode is not None:
        store = ResilientStore(
            redis_store,
            clock or SystemClock(),
            failure_mode,
            replicas,
            op_timeout=timeout,
            on_error=on_error,
            on_fallback=on_fallback,
            on_state=on_state,
            batcher=redis_store,
        )
        guard = store.guard
    return StoreBackend(store, client, keys, guard, redis_store.mux)


def build_store(url: str, *, clock: Clock | None = None, prefix: str = "dg") -> BudgetStore:
    """Just the budget store (see :func:`build_backend` for the shared client)."""
    return build_backend(url, clock=clock, prefix=prefix).budgets
