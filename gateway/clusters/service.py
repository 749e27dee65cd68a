"""Cluster operations for the admin API: JSON-able dicts, no HTTP here.

The lead wires these onto admin routes (and adds budget state and detection levels).
"""

from __future__ import annotations

from typing import Any

from gateway.clock import Clock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.types import MANUAL, Evidence, hash_value


class ClusterService:
    def __init__(
        self, graph: ClusterGraph, clock: Clock, cache: ClusterCache | None = None
    ) -> None:
        self._graph = graph
        self._clock = clock
        self._cache = cache

    async def account_view(self, account: str) -> dict[str, Any]:
        info = await self._graph.info(account)
        links = await self._graph.links(info.cluster_id)
        own = [link.to_json() for link in links if account in (link.a, link.b)]
        return {
            "account_id": account,
            "cluster_id": info.cluster_id,
            "members": info.size,
            "links": own,
        }

    async def cluster_view(self, cluster_id: str, *, max_members: int = 1000) -> dict[str, Any]:
        info = await self._graph.info(cluster_id)
        members = await self._graph.members(info.cluster_id)
        links = await self._graph.links(info.cluster_id)
        return {
            "cluster_id": info.cluster_id,
            "size": len(members),
            "members": members[:max_members],
            "members_truncated": len(members) > max_members,
            "links": [link.to_json() for link in links],
        }

    async def link(self, a: str, b: str, reason: str, actor: str) -> dict[str, Any]:
        """An operator's link: overrides a "do not link" mark, still bounded by max_size."""
        now = self._clock.now()
        evidence = (Evidence(MANUAL, hash_value(MANUAL, actor), now, now, 1),)
        result = await self._graph.link(a, b, evidence, actor=actor, reason=reason)
        self._invalidate(a, b)
        return {
            "linked": result.linked,
            "status": result.status,
            "cluster_id": result.cluster_id,
            "size": result.size,
        }

    async def unlink(self, a: str, b: str, reason: str, actor: str) -> dict[str, Any]:
        """Remove the edge a-b; the pair is marked "do not link" for ``unlink_ttl``."""
        result = await self._graph.unlink(a, b, reason=reason, actor=actor)
        self._invalidate(a, b)
        return {
            "edges_removed": result.removed,
            "separated": result.separated,
            "clusters": [{"cluster_id": c.cluster_id, "size": c.size} for c in result.clusters],
        }

    async def audit(self, limit: int = 100) -> dict[str, Any]:
        entries = await self._graph.audit(max(1, min(limit, 10_000)))
        return {"entries": [entry.to_json() for entry in entries]}

    def _invalidate(self, a: str, b: str) -> None:
        if self._cache is not None:
            self._cache.invalidate(a, b)
