"""The hot path's view of clusters: ``get(account) -> ClusterInfo`` from a local TTL cache.

A fresh entry is answered at once; a stale one is answered at once too and refreshed by a
background task, so a request waits for the graph only on an account's very first request
(one lookup, shared by concurrent requests). Links and unlinks made by this process
invalidate the affected clusters locally (and look their members up again in the
background, so that their next requests need not wait); other replicas' changes arrive
within ``cache_ttl``. ``expire_all`` (evidence removed from the graph) marks every entry
stale: served once more while it is refreshed (expiries within a second coalesce). When the
graph is unreachable a lone account is treated as its own cluster. With a ``guard`` (the
budget store's :class:`~gateway.limiter.guard.StoreGuard`) every lookup shares its breaker
and is bounded by half its deadline: a hung Redis costs a first request one short wait. For
a cluster of at most ``soft_max_size`` members the same lookup (one call) also says whether
it stands on soft links only (``ClusterInfo.soft``: its budgets are then those of its
members alone), so an entry's soft flag is as old as the entry (at most ``cache_ttl``).
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict

from gateway.clock import Clock
from gateway.clusters.config import PolicyProvider, default_policy
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.types import ClusterInfo
from gateway.limiter.guard import StoreGuard
from gateway.store_errors import StoreUnavailable

_PREFETCH = 256  # accounts looked up again after one invalidation, at most
EXPIRE_EVERY = 1.0  # seconds: expire_all coalesces within this


class ClusterCache:
    def __init__(
        self,
        graph: ClusterGraph,
        clock: Clock,
        policy: PolicyProvider = default_policy,
        *,
        capacity: int = 100_000,
        guard: StoreGuard | None = None,
    ) -> None:
        self._graph = graph
        self._guard = guard
        self._clock = clock
        self._policy = policy
        self._capacity = capacity
        # account -> (info, fetched at, generation)
        self._entries: OrderedDict[str, tuple[ClusterInfo, float, int]] = OrderedDict()
        self._by_cluster: dict[str, set[str]] = {}
        self._inflight: dict[str, asyncio.Task[ClusterInfo]] = {}
        self._generation = 0  # entries fetched in an earlier generation are stale
        self._expired_at = -math.inf  # when the generation last moved
        self._expiry_due = False  # an expire_all waits for EXPIRE_EVERY to pass
        self.lookups = 0  # graph round trips (first requests and refreshes)
        self.errors = 0

    async def get(self, account: str) -> ClusterInfo:
        if not self._policy().enabled:
            return ClusterInfo(account, 1)
        entry = self._entries.get(account)
        if entry is not None:
            info, at, generation = entry
            now = self._clock.now()
            if self._expiry_due and now - self._expired_at >= EXPIRE_EVERY:
                self._next_generation(now)
            stale = generation != self._generation
            if stale or now - at >= self._policy().cache_ttl:
                self._fetch(account)  # refresh in the background; answer with what we have
            return info
        try:
            return await asyncio.shield(self._fetch(account))
        except StoreUnavailable:
            return ClusterInfo(account, 1)

    def peek(self, account: str) -> ClusterInfo | None:
        """The cached value, fresh or not, without any lookup."""
        entry = self._entries.get(account)
        return None if entry is None else entry[0]

    def _fetch(self, account: str) -> asyncio.Task[ClusterInfo]:
        task = self._inflight.get(account)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._lookup(account))
            self._inflight[account] = task
            task.add_done_callback(lambda done: self._finished(account, done))
        return task

    def _finished(self, account: str, task: asyncio.Task[ClusterInfo]) -> None:
        self._inflight.pop(account, None)
        if not task.cancelled() and task.exception() is not None:
            self.errors += 1

    async def _lookup(self, account: str) -> ClusterInfo:
        self.lookups += 1
        generation = self._generation  # an expire_all meanwhile leaves this answer stale
        policy = self._policy()
        hard, soft_max = policy.link_on.hard, policy.soft_max_size  # bigger: hard links

        async def lookup() -> ClusterInfo:
            return await self._graph.info(account, hard, soft_max)

        if self._guard is None:
            info = await lookup()
        else:
            info = await self._guard.run("cluster", lookup, share=0.5)
        self._put(account, info, generation)
        return info

    def _put(self, account: str, info: ClusterInfo, generation: int) -> None:
        old = self._entries.pop(account, None)
        if old is not None:
            self._forget(old[0].cluster_id, account)
        self._entries[account] = (info, self._clock.now(), generation)
        self._by_cluster.setdefault(info.cluster_id, set()).add(account)
        while len(self._entries) > self._capacity:
            evicted, (evicted_info, _, _) = self._entries.popitem(last=False)
            self._forget(evicted_info.cluster_id, evicted)

    def _forget(self, cluster_id: str, account: str) -> None:
        accounts = self._by_cluster.get(cluster_id)
        if accounts is not None:
            accounts.discard(account)
            if not accounts:
                del self._by_cluster[cluster_id]

    def invalidate(self, *accounts: str) -> None:
        """Drop these accounts and every cached member of their clusters (after a link or
        unlink by this process), and look them up again in the background."""
        dropped: set[str] = set()
        for account in accounts:
            entry = self._entries.get(account)
            clusters = {account} if entry is None else {account, entry[0].cluster_id}
            for cluster_id in clusters:
                dropped |= self.invalidate_cluster(cluster_id)
            if self._entries.pop(account, None) is not None:
                dropped.add(account)
        self._prefetch(dropped)

    def invalidate_cluster(self, cluster_id: str) -> set[str]:
        """Drop every cached member of a cluster; the members dropped."""
        members = self._by_cluster.pop(cluster_id, set())
        for member in members:
            self._entries.pop(member, None)
        return members

    def _prefetch(self, accounts: set[str]) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): the next request looks up
        for account in sorted(accounts)[:_PREFETCH]:
            self._fetch(account)

    def expire_all(self) -> None:
        """Every entry is stale: the next request of each account refreshes it (and is
        answered with the entry meanwhile). Expiries coalesce: at most one per
        ``EXPIRE_EVERY`` seconds (a burst of hot values refreshes every account once)."""
        now = self._clock.now()
        if now - self._expired_at >= EXPIRE_EVERY:
            self._next_generation(now)
        else:
            self._expiry_due = True

    def _next_generation(self, now: float) -> None:
        self._generation += 1
        self._expired_at = now
        self._expiry_due = False

    def clear(self) -> None:
        self._entries.clear()
        self._by_cluster.clear()

    async def close(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
