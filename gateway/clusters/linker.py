"""Turns what requests reveal into links between accounts (off the hot path).

* Hard signals (``link_on.hard``: identity attributes such as payment_fingerprint, org_id):
  accounts sharing a value link at once, each to the value's smallest other account (a star,
  so a value adds at most ``limit`` edges).
* Soft signals (ip_prefix, template, synchrony): a pair links when ``soft_min_signals``
  different signals agree or one signal repeats on ``soft_repeat_days`` distinct days.
* Hot values: a value shared by more than the hot limit links nobody; when it turns hot the
  evidence it produced is removed from the graph, audited and counted.

Values are hashed (keyed BLAKE2b) before they leave this module. Each (account, value) is
reported to the store at most once per ``refresh`` seconds per process (soft signals once a
day), which keeps the store traffic far below the request rate.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from gateway.auth.client_ip import ip_prefix
from gateway.clock import Clock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.config import ClustersPolicy, PolicyProvider
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.observations import Observations, PairMatch, PairRule
from gateway.clusters.signals import day_of, window_of
from gateway.clusters.ttlmap import TtlMap
from gateway.clusters.types import AuditEntry, Evidence, LinkResult, hash_value
from gateway.model import Identity

SYNC_VALUE = "-"  # synchrony evidence has no shared value


@dataclass(slots=True)
class LinkerStats:
    """Counters for metrics (read by the admin/metrics layer)."""

    observed: int = 0
    dropped: int = 0  # queue overflow (worker)
    errors: int = 0
    links: int = 0  # merges and new edges
    refused: int = 0  # too_large or do_not_link
    hot_values: int = 0


class Linker:
    def __init__(
        self,
        graph: ClusterGraph,
        observations: Observations,
        policy_provider: PolicyProvider,
        clock: Clock,
        *,
        salt: bytes = b"",
        cache: ClusterCache | None = None,
        refresh: float = 600.0,
        dedup_capacity: int = 100_000,
    ) -> None:
        self._graph = graph
        self._obs = observations
        self._policy = policy_provider
        self._clock = clock
        self._salt = salt
        self._cache = cache
        self._refresh = refresh
        self._recent: TtlMap[tuple[str, ...], bool] = TtlMap(dedup_capacity)
        self.stats = LinkerStats()

    async def observe(self, identity: Identity, template: int | None, now: float) -> None:
        """Record one request's signals; link accounts whose evidence now suffices."""
        policy = self._policy()
        if not policy.enabled:
            return
        self.stats.observed += 1
        account = identity.account_id
        for name in policy.link_on.hard:
            raw = identity.attrs.get(name)
            if raw:
                await self._hard(policy, account, name, hash_value(name, raw, self._salt), now)
        soft = policy.link_on.soft
        if "ip_prefix" in soft and identity.client_ip and _routable(identity.client_ip):
            prefix = ip_prefix(identity.client_ip)
            if prefix:
                await self._soft(policy, account, "ip_prefix", prefix, now)
        if "template" in soft and template is not None:
            await self._soft(policy, account, "template", f"{template:x}", now)
        if "synchrony" in soft:
            await self._synchrony(policy, account, now)

    def _first_time(self, key: tuple[str, ...], now: float, ttl: float) -> bool:
        if self._recent.fresh(key, now, ttl):
            return False
        self._recent.put(key, True, now)
        return True

    async def _hard(
        self, policy: ClustersPolicy, account: str, signal: str, value_hash: str, now: float
    ) -> None:
        if not self._first_time(("h", account, signal, value_hash), now, self._refresh):
            return
        seen = await self._obs.add_value(
            signal,
            value_hash,
            account,
            now,
            limit=policy.hot_limit(signal),
            ttl=policy.evidence_ttl,
        )
        if seen.newly_hot:
            await self._report_hot(policy, signal, value_hash, whole_edges=False)
        if seen.hot or not seen.others:
            return
        evidence = (Evidence(signal, value_hash, now, now, 1),)
        target = seen.others[0]
        result = await self._graph.link(target, account, evidence, reason=f"shared {signal}")
        self._count(account, target, result)

    async def _soft(
        self, policy: ClustersPolicy, account: str, signal: str, raw: str, now: float
    ) -> None:
        value_hash = hash_value(signal, raw, self._salt)
        day = day_of(now)
        if not self._first_time(("s", account, signal, value_hash, str(day)), now, 86400.0):
            return
        seen = await self._obs.add_value(
            signal,
            value_hash,
            account,
            now,
            limit=policy.hot_limit(signal),
            ttl=policy.observation_ttl,
        )
        if seen.newly_hot:
            await self._report_hot(policy, signal, value_hash, whole_edges=True)
        if seen.hot or not seen.others:
            return
        matches = await self._obs.record_pairs(
            account, seen.others, signal, value_hash, day, need=1, rule=self._rule(policy)
        )
        await self._link_matches(account, matches, now)

    async def _synchrony(self, policy: ClustersPolicy, account: str, now: float) -> None:
        window = window_of(now, policy.synchrony.window)
        if not self._first_time(("w", account, str(window)), now, policy.synchrony.window):
            return
        ttl = max(policy.synchrony.window * 4, 60.0)
        seen = await self._obs.add_value(
            "synchrony", str(window), account, now, limit=policy.hot_limit("synchrony"), ttl=ttl
        )
        if seen.hot or not seen.new_member or not seen.others:
            return  # a crowded window says nothing about any pair: skip, never report
        matches = await self._obs.record_pairs(
            account,
            seen.others,
            "synchrony",
            SYNC_VALUE,
            day_of(now),
            need=policy.synchrony.min_cooccurrences,
            rule=self._rule(policy),
        )
        await self._link_matches(account, matches, now)

    @staticmethod
    def _rule(policy: ClustersPolicy) -> PairRule:
        return PairRule(policy.soft_min_signals, policy.soft_repeat_days, policy.observation_ttl)

    async def _link_matches(self, account: str, matches: list[PairMatch], now: float) -> None:
        for match in matches:
            evidence = tuple(
                Evidence(s.signal, s.value_hash, now, now, s.days) for s in match.signals
            )
            names = "+".join(s.signal for s in match.signals)
            reason = f"soft signals {names}"
            result = await self._graph.link(match.other, account, evidence, reason=reason)
            self._count(account, match.other, result)

    def _count(self, a: str, b: str, result: LinkResult) -> None:
        if result.status in ("merged", "edge"):
            self.stats.links += 1
            if self._cache is not None:
                self._cache.invalidate(a, b)
        elif result.status in ("too_large", "do_not_link"):
            self.stats.refused += 1

    async def _report_hot(
        self, policy: ClustersPolicy, signal: str, value_hash: str, *, whole_edges: bool
    ) -> None:
        self.stats.hot_values += 1
        limit = policy.hot_limit(signal)
        await self._graph.record(
            AuditEntry(
                self._clock.now(),
                "hot_value",
                "linker",
                f"{signal} value shared by more than {limit} accounts links nobody",
                (),
                "",
                {"signal": signal, "value_hash": value_hash, "limit": limit},
            )
        )
        removed = await self._graph.drop_evidence(
            signal, value_hash, reason="hot value", actor="linker", whole_edges=whole_edges
        )
        if removed and self._cache is not None:
            self._cache.clear()


def _routable(address: str) -> bool:
    """Loopback, link-local and unspecified addresses say nothing about the client (a local
    load balancer without GATEWAY_TRUSTED_PROXIES): they are never a linking signal."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)
