"""The hot path's view of clusters: ``get(account) -> ClusterInfo`` from a local TTL cache.

A fresh entry is answered at once; a stale one is answered at once too and refreshed by a
background task, so a request waits for the graph only on an account's very first request
(one lookup, shared by concurrent requests). Links and unlinks made by this process
invalidate the affected clusters locally; other replicas' changes arrive within ``cache_ttl``.
When the graph is unreachable a lone account is treated as its own cluster.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from gateway.clock import Clock
from gateway.clusters.config import PolicyProvider, default_policy
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.types import ClusterInfo
from gateway.limiter.store import StoreUnavailable


class ClusterCache:
    def __init__(
        self,
        graph: ClusterGraph,
        clock: Clock,
        policy: PolicyProvider = default_policy,
        *,
        capacity: int = 100_000,
    ) -> None:
        self._graph = graph
        self._clock = clock
        self._policy = policy
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[ClusterInfo, float]] = OrderedDict()
        self._by_cluster: dict[str, set[str]] = {}
        self._inflight: dict[str, asyncio.Task[ClusterInfo]] = {}
        self.lookups = 0  # graph round trips (first requests and refreshes)
        self.errors = 0

    async def get(self, account: str) -> ClusterInfo:
        if not self._policy().enabled:
            return ClusterInfo(account, 1)
        entry = self._entries.get(account)
        if entry is not None:
            info, at = entry
            if self._clock.now() - at >= self._policy().cache_ttl:
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
        info = await self._graph.info(account)
        self._put(account, info)
        return info

    def _put(self, account: str, info: ClusterInfo) -> None:
        old = self._entries.pop(account, None)
        if old is not None:
            self._forget(old[0].cluster_id, account)
        self._entries[account] = (info, self._clock.now())
        self._by_cluster.setdefault(info.cluster_id, set()).add(account)
        while len(self._entries) > self._capacity:
            evicted, (evicted_info, _) = self._entries.popitem(last=False)
            self._forget(evicted_info.cluster_id, evicted)

    def _forget(self, cluster_id: str, account: str) -> None:
        accounts = self._by_cluster.get(cluster_id)
        if accounts is not None:
            accounts.discard(account)
            if not accounts:
                del self._by_cluster[cluster_id]

    def invalidate(self, *accounts: str) -> None:
        """Drop these accounts and every cached member of their clusters (after a link or
        unlink by this process), so the next request looks them up again."""
        for account in accounts:
            entry = self._entries.get(account)
            clusters = {account} if entry is None else {account, entry[0].cluster_id}
            for cluster_id in clusters:
                self.invalidate_cluster(cluster_id)
            self._entries.pop(account, None)

    def invalidate_cluster(self, cluster_id: str) -> None:
        for member in list(self._by_cluster.pop(cluster_id, ())):
            self._entries.pop(member, None)

    def clear(self) -> None:
        self._entries.clear()
        self._by_cluster.clear()

    async def close(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
