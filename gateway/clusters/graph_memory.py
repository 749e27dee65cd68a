"""The cluster graph in one process (tests, the demo, simulations): same rules as Redis."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from gateway.clock import Clock
from gateway.clusters.config import PolicyProvider, default_policy
from gateway.clusters.hardness import has_hard_link
from gateway.clusters.types import (
    MANUAL,
    AuditEntry,
    ClusterInfo,
    Evidence,
    Link,
    LinkResult,
    UnlinkResult,
    pair_id,
)


def merge_evidence(old: Evidence | None, new: Evidence) -> Evidence:
    """The same signal value seen again: widen the time span, add the counts. Evidence no
    newer than the last recorded adds no count (a redelivered sighting: the linker applies
    its sightings in time order, so only a repeat arrives late)."""
    if old is None:
        return new
    return Evidence(
        signal=new.signal,
        value_hash=new.value_hash,
        first_seen=min(old.first_seen, new.first_seen),
        last_seen=max(old.last_seen, new.last_seen),
        count=old.count + (new.count if new.last_seen > old.last_seen else 0),
    )


class MemoryClusterGraph:
    """Dicts and sets; every method runs without awaiting, so each is atomic on the loop."""

    def __init__(self, clock: Clock, policy: PolicyProvider = default_policy) -> None:
        self._clock = clock
        self._policy = policy
        self._root: dict[str, str] = {}  # members of non-trivial clusters only
        self._members: dict[str, set[str]] = {}
        self._adj: dict[str, set[str]] = {}
        self._edges: dict[str, dict[str, Evidence]] = {}  # pair -> evidence field -> evidence
        self._ends: dict[str, tuple[str, str]] = {}
        self._by_value: dict[str, set[str]] = {}  # evidence field -> pairs
        self._no_link: dict[str, float] = {}  # pair -> expiry
        self._audit: deque[AuditEntry] = deque(maxlen=policy().audit_max)

    def _root_of(self, account: str) -> str:
        return self._root.get(account, account)

    def _size(self, root: str) -> int:
        return len(self._members.get(root, ())) or 1

    async def cluster_of(self, account: str) -> str:
        return self._root_of(account)

    async def info(
        self, account: str, hard: tuple[str, ...] | None = None, soft_max: int = 0
    ) -> ClusterInfo:
        root = self._root_of(account)
        size = self._size(root)
        if hard is None or not 1 < size <= soft_max:
            return ClusterInfo(root, size)
        return ClusterInfo(root, size, not has_hard_link(await self.links(root), hard))

    async def members(self, cluster_id: str) -> list[str]:
        return sorted(self._members.get(cluster_id, {cluster_id}))

    async def link(
        self,
        a: str,
        b: str,
        evidence: Sequence[Evidence],
        *,
        actor: str = "linker",
        reason: str = "",
    ) -> LinkResult:
        policy = self._policy()
        ra, rb = self._root_of(a), self._root_of(b)
        sa, sb = self._size(ra), self._size(rb)
        if a == b:
            return LinkResult("self", ra, sa)
        pair = pair_id(a, b)
        manual = any(e.signal == MANUAL for e in evidence)
        now = self._clock.now()
        if manual:
            self._no_link.pop(pair, None)
        elif self._no_link.get(pair, 0.0) > now:
            return LinkResult("do_not_link", ra, sa)
        if ra != rb and sa + sb > policy.max_size:
            self._record_refusal(a, b, ra, sa + sb, policy.max_size, actor, reason)
            return LinkResult("too_large", ra, sa)
        existed = pair in self._edges
        edge = self._edges.setdefault(pair, {})
        self._ends[pair] = (a, b)
        for item in evidence:
            edge[item.field] = merge_evidence(edge.get(item.field), item)
            self._by_value.setdefault(item.field, set()).add(pair)
        self._adj.setdefault(a, set()).add(b)
        self._adj.setdefault(b, set()).add(a)
        if ra == rb:
            return LinkResult("refreshed" if existed else "edge", ra, sa)
        keep, drop = (rb, ra) if sb > sa else (ra, rb)
        merged = self._members.pop(drop, {drop}) | self._members.get(keep, {keep})
        self._members[keep] = merged
        for member in merged:
            self._root[member] = keep
        self._audit.append(
            AuditEntry(
                now,
                "link",
                actor,
                reason,
                (a, b),
                keep,
                {"size": len(merged), "signals": sorted({e.signal for e in evidence})},
            )
        )
        return LinkResult("merged", keep, len(merged))

    def _record_refusal(
        self, a: str, b: str, root: str, size: int, limit: int, actor: str, reason: str
    ) -> None:
        detail = {"refused": "too_large", "merged_size": size, "max_size": limit}
        self._audit.append(
            AuditEntry(self._clock.now(), "refused", actor, reason, (a, b), root, detail)
        )

    async def unlink(self, a: str, b: str, *, reason: str, actor: str) -> UnlinkResult:
        pair = pair_id(a, b)
        now = self._clock.now()
        self._no_link[pair] = now + self._policy().unlink_ttl
        removed = self._remove_edges([pair])
        self._audit.append(
            AuditEntry(now, "unlink", actor, reason, (a, b), "", {"edges_removed": removed})
        )
        ia, ib = await self.info(a), await self.info(b)
        return UnlinkResult(removed, ia.cluster_id != ib.cluster_id, (ia, ib))

    async def drop_evidence(
        self, signal: str, value_hash: str, *, reason: str, actor: str, whole_edges: bool = False
    ) -> int:
        field = f"{signal}:{value_hash}"
        emptied = []
        for pair in self._by_value.pop(field, set()):
            edge = self._edges.get(pair)
            if edge is not None:
                edge.pop(field, None)
                if whole_edges or not edge:
                    emptied.append(pair)
        removed = self._remove_edges(emptied)
        detail = {"signal": signal, "value_hash": value_hash, "edges_removed": removed}
        self._audit.append(
            AuditEntry(self._clock.now(), "drop_evidence", actor, reason, (), "", detail)
        )
        return removed

    async def prune(self) -> int:
        cutoff = self._clock.now() - self._policy().evidence_ttl
        stale = [
            pair
            for pair, edge in self._edges.items()
            if max((e.last_seen for e in edge.values()), default=0.0) < cutoff
        ]
        removed = self._remove_edges(stale)
        if removed:
            self._audit.append(AuditEntry.pruned(self._clock.now(), removed))
        return removed

    def _remove_edges(self, pairs: Iterable[str]) -> int:
        affected: set[str] = set()
        removed = 0
        for pair in pairs:
            edge = self._edges.pop(pair, None)
            ends = self._ends.pop(pair, None)
            if edge is None or ends is None:
                continue
            for field in edge:
                self._by_value.get(field, set()).discard(pair)
            a, b = ends
            self._adj.get(a, set()).discard(b)
            self._adj.get(b, set()).discard(a)
            affected.add(self._root_of(a))
            removed += 1
        for root in affected:
            self._recompute(root)
        return removed

    def _recompute(self, root: str) -> None:
        """Split a cluster into the components its remaining edges still connect."""
        members = self._members.pop(root, set())
        seen: set[str] = set()
        for start in [root, *sorted(members - {root})]:
            if start in seen:
                continue
            component = self._component(start, seen)
            cluster_id = start if start == root else min(component)
            if len(component) == 1:
                self._root.pop(start, None)
                continue
            self._members[cluster_id] = component
            for member in component:
                self._root[member] = cluster_id

    def _component(self, start: str, seen: set[str]) -> set[str]:
        component = {start}
        seen.add(start)
        frontier = [start]
        while frontier:
            for neighbour in self._adj.get(frontier.pop(), ()):
                if neighbour not in seen:
                    seen.add(neighbour)
                    component.add(neighbour)
                    frontier.append(neighbour)
        return component

    async def links(self, cluster_id: str) -> list[Link]:
        out = []
        for member in sorted(self._members.get(cluster_id, {cluster_id})):
            for neighbour in sorted(self._adj.get(member, ())):
                if member < neighbour:
                    edge = self._edges.get(pair_id(member, neighbour), {})
                    out.append(Link(member, neighbour, tuple(edge[f] for f in sorted(edge))))
        return out

    async def record(self, entry: AuditEntry) -> None:
        self._audit.append(entry)

    async def audit(self, limit: int = 100) -> list[AuditEntry]:
        return list(reversed(self._audit))[:limit]

    async def close(self) -> None:
        return None
