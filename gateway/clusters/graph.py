"""The link graph: accounts joined by evidence-carrying edges, grouped into clusters.

A union-find that can also forget: every cluster keeps its member set and every edge its
evidence, so removing edges (operator unlink, hot values, expired evidence) recomputes the
components of the affected clusters from the edges that remain.

Cluster ids are account ids: a solitary account is its own cluster; a merge keeps the id of
the larger side (ties: the side of ``a``), so ids rarely change; after a split the part that
holds the old id keeps it and every other part takes its smallest member as id.

An operator ``unlink`` sticks: the pair gets a "do not link" mark for ``unlink_ttl`` that
refuses automatic links (new evidence included); only a manual link clears it early.

Implementations: :mod:`gateway.clusters.graph_memory` (one process, injected clock) and
:mod:`gateway.clusters.graph_redis` (all state in Redis, Lua; shared by every replica).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gateway.clusters.types import (
    AuditEntry,
    ClusterInfo,
    Evidence,
    Link,
    LinkResult,
    UnlinkResult,
)


class ClusterGraph(Protocol):
    async def cluster_of(self, account: str) -> str:
        """The account's cluster id (the account id itself when solitary)."""
        ...

    async def info(
        self, account: str, hard: tuple[str, ...] | None = None, soft_max: int = 0
    ) -> ClusterInfo:
        """Cluster id and member count in one lookup. With ``hard`` (the hard signals), a
        cluster of 2..``soft_max`` members is also read for its standing in that lookup:
        ``soft`` when no edge carries a hard signal or an operator's link."""
        ...

    async def members(self, cluster_id: str) -> list[str]:
        """Sorted members of a cluster; ``[cluster_id]`` for a solitary account."""
        ...

    async def link(
        self,
        a: str,
        b: str,
        evidence: Sequence[Evidence],
        *,
        actor: str = "linker",
        reason: str = "",
    ) -> LinkResult:
        """Add (or refresh) the edge a-b with its evidence, merging clusters if needed.

        Refused when the merged cluster would exceed ``max_size`` or the pair carries a
        "do not link" mark (unless one evidence is ``manual``: an operator's link)."""
        ...

    async def unlink(self, a: str, b: str, *, reason: str, actor: str) -> UnlinkResult:
        """Remove the edge a-b with all its evidence, mark the pair "do not link"."""
        ...

    async def drop_evidence(
        self, signal: str, value_hash: str, *, reason: str, actor: str, whole_edges: bool = False
    ) -> int:
        """Remove one value's evidence from every edge (a value turned hot); edges left
        without evidence, or every edge carrying it when ``whole_edges`` (soft links stand
        on a combination of signals), are removed. Returns the number of edges removed."""
        ...

    async def prune(self) -> int:
        """Remove edges whose newest evidence is older than ``evidence_ttl``."""
        ...

    async def links(self, cluster_id: str) -> list[Link]:
        """Every edge inside a cluster, with its evidence."""
        ...

    async def record(self, entry: AuditEntry) -> None:
        """Append to the bounded audit log."""
        ...

    async def audit(self, limit: int = 100) -> list[AuditEntry]:
        """Newest audit entries first."""
        ...

    async def close(self) -> None: ...
