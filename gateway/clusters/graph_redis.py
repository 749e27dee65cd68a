"""The cluster graph in Redis: shared by every replica, changed only by atomic Lua scripts.

All keys hang off one base key, ``KeyBuilder.cluster_graph()``: they share its
hash tag ``{x:clusters}``, so the multi-key scripts work on Redis Cluster (one slot). The
scripts and the readers below append the same suffixes to that base (layout in
``lua/common.lua``). Audit entries are a capped list (LPUSH + LTRIM).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from gateway.clock import Clock
from gateway.clusters.config import PolicyProvider, default_policy
from gateway.clusters.types import (
    MANUAL,
    AuditEntry,
    ClusterInfo,
    Evidence,
    Link,
    LinkResult,
    LinkStatus,
    UnlinkResult,
    pair_id,
)
from gateway.redis.client import RedisClient
from gateway.redis.errors import translated
from gateway.redis.keys import KeyBuilder
from gateway.redis.replies import text as _text
from gateway.redis.scripts import ScriptRegistry

SCRIPTS = ("link", "remove", "info")  # lua/<name>.lua, each after lua/common.lua


def _guard() -> AbstractContextManager[None]:
    return translated("cluster graph")


def _evidence(field: str, value: str) -> Evidence:
    signal, _, value_hash = field.rpartition(":")
    first, last, count = value.split(",")
    return Evidence(signal, value_hash, float(first), float(last), int(float(count)))


class RedisClusterGraph:
    def __init__(
        self,
        client: RedisClient,
        clock: Clock,
        policy: PolicyProvider = default_policy,
        keys: KeyBuilder | None = None,
    ) -> None:
        self._redis = client
        self._clock = clock
        self._policy = policy
        self._base = (keys or KeyBuilder()).cluster_graph()
        scripts = ScriptRegistry("gateway.clusters", SCRIPTS, prelude=("common",))
        self._link, self._remove, self._info = (scripts[name] for name in SCRIPTS)

    def _k(self, *parts: str) -> str:
        return ":".join((self._base, *parts))

    async def cluster_of(self, account: str) -> str:
        with _guard():
            root = await self._redis.hget(self._k("r"), account)
        return account if root is None else _text(root)

    async def info(
        self, account: str, hard: tuple[str, ...] | None = None, soft_max: int = 0
    ) -> ClusterInfo:
        strong = () if hard is None else (*hard, MANUAL)
        with _guard():
            root, size, soft = await self._info.run(
                self._redis, 1, [self._base, account, soft_max if strong else 0, *strong]
            )
        return ClusterInfo(_text(root), int(size), bool(int(soft)))

    async def members(self, cluster_id: str) -> list[str]:
        with _guard():
            found = await self._redis.smembers(self._k("m", cluster_id))
        return sorted(_text(m) for m in found) or [cluster_id]

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
        manual = any(e.signal == MANUAL for e in evidence)
        args: list[str | int | float] = [a, b, pair_id(a, b), policy.max_size, int(manual), 0]
        for item in evidence:
            args += [item.field, repr(item.first_seen), repr(item.last_seen), item.count]
        with _guard():
            reply = await self._link.run(self._redis, 1, [self._base, *args])
        status: LinkStatus = _text(reply[0])  # type: ignore[assignment]
        result = LinkResult(status, _text(reply[1]), int(reply[2]))
        if status == "merged":
            await self.record(
                AuditEntry(
                    self._clock.now(),
                    "link",
                    actor,
                    reason,
                    (a, b),
                    result.cluster_id,
                    {"size": result.size, "signals": sorted({e.signal for e in evidence})},
                )
            )
        elif status == "too_large":
            detail = {
                "refused": "too_large",
                "merged_size": int(reply[3]),
                "max_size": policy.max_size,
            }
            await self.record(
                AuditEntry(
                    self._clock.now(), "refused", actor, reason, (a, b), result.cluster_id, detail
                )
            )
        return result

    async def unlink(self, a: str, b: str, *, reason: str, actor: str) -> UnlinkResult:
        ttl = self._policy().unlink_ttl
        with _guard():
            reply = await self._remove.run(
                self._redis, 1, [self._base, "pairs", ttl, pair_id(a, b)]
            )
        removed = int(reply[0])
        await self.record(
            AuditEntry(
                self._clock.now(), "unlink", actor, reason, (a, b), "", {"edges_removed": removed}
            )
        )
        ia, ib = await self.info(a), await self.info(b)
        return UnlinkResult(removed, ia.cluster_id != ib.cluster_id, (ia, ib))

    async def drop_evidence(
        self, signal: str, value_hash: str, *, reason: str, actor: str, whole_edges: bool = False
    ) -> int:
        args = ["field", f"{signal}:{value_hash}", "1" if whole_edges else "0"]
        with _guard():
            reply = await self._remove.run(self._redis, 1, [self._base, *args])
        removed = int(reply[0])
        detail = {"signal": signal, "value_hash": value_hash, "edges_removed": removed}
        await self.record(
            AuditEntry(self._clock.now(), "drop_evidence", actor, reason, (), "", detail)
        )
        return removed

    async def prune(self, batch: int = 1000) -> int:
        cutoff = self._clock.now() - self._policy().evidence_ttl
        with _guard():
            reply = await self._remove.run(
                self._redis, 1, [self._base, "prune", repr(cutoff), batch]
            )
        removed = int(reply[0])
        if removed:
            await self.record(AuditEntry.pruned(self._clock.now(), removed))
        return removed

    async def links(self, cluster_id: str) -> list[Link]:
        members = await self.members(cluster_id)
        with _guard():
            pipe = self._redis.pipeline(transaction=False)
            for member in members:
                pipe.smembers(self._k("adj", member))
            neighbours = await pipe.execute()
            pairs = sorted(
                {
                    pair_id(m, _text(n))
                    for m, found in zip(members, neighbours, strict=True)
                    for n in found
                }
            )
            pipe = self._redis.pipeline(transaction=False)
            for pair in pairs:
                pipe.hgetall(self._k("e", pair))
            edges = await pipe.execute()
        out = []
        for edge in edges:
            fields = {_text(k): _text(v) for k, v in edge.items()}
            a, b = fields.pop("@a", ""), fields.pop("@b", "")
            if a and b:
                evidence = tuple(_evidence(f, fields[f]) for f in sorted(fields))
                out.append(Link(min(a, b), max(a, b), evidence))
        return sorted(out, key=lambda link: (link.a, link.b))

    async def record(self, entry: AuditEntry) -> None:
        key = self._k("audit")
        with _guard():
            pipe = self._redis.pipeline(transaction=True)
            pipe.lpush(key, entry.encode())
            pipe.ltrim(key, 0, self._policy().audit_max - 1)
            await pipe.execute()

    async def audit(self, limit: int = 100) -> list[AuditEntry]:
        with _guard():
            found = await self._redis.lrange(self._k("audit"), 0, max(0, limit - 1))
        return [AuditEntry.decode(item) for item in found]

    async def close(self) -> None:
        return None
