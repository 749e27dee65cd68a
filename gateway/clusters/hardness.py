"""Whether a cluster stands on hard evidence: at least one edge with a hard signal (an
identity attribute of ``link_on.hard``, such as a shared payment fingerprint or org) or an
operator's ``manual`` link. Detection caps clusters built only on soft evidence
(template, synchrony, IP prefix). Looked up off the hot path, cached for ``ttl`` seconds."""

from __future__ import annotations

from gateway.clock import Clock
from gateway.clusters.config import PolicyProvider
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.ttlmap import TtlMap
from gateway.clusters.types import MANUAL, Link


def has_hard_link(links: list[Link], hard: tuple[str, ...]) -> bool:
    """Some edge carries a hard signal or an operator's link (pure)."""
    strong = {*hard, MANUAL}
    return any(e.signal in strong for link in links for e in link.evidence)


class HardLinks:
    """``await hard_links(cluster_id)``: True when the cluster has a hard link."""

    def __init__(
        self,
        graph: ClusterGraph,
        clock: Clock,
        policy: PolicyProvider,
        *,
        ttl: float = 60.0,
        capacity: int = 10_000,
    ) -> None:
        self._graph = graph
        self._clock = clock
        self._policy = policy
        self._ttl = ttl
        self._cache: TtlMap[str, bool] = TtlMap(capacity)

    async def __call__(self, cluster_id: str) -> bool:
        now = self._clock.now()
        found = self._cache.get(cluster_id)
        if found is not None and now - found[1] < self._ttl:
            return found[0]
        hard = has_hard_link(await self._graph.links(cluster_id), self._policy().link_on.hard)
        self._cache.put(cluster_id, hard, now)
        return hard
