"""Turns what requests reveal into links between accounts (off the hot path).

* Hard signals (``link_on.hard``: identity attributes such as payment_fingerprint, org_id):
  accounts sharing a value link at once, each to the value's smallest other account (a star,
  so a value adds at most ``limit`` edges).
* Soft signals (ip_prefix, template, synchrony): a pair links when ``soft_min_signals``
  different signals agree or one signal repeats on ``soft_repeat_days`` distinct days.
* Hot values: a value shared by more than the hot limit links nobody; when it turns hot the
  evidence it produced is removed from the graph, audited and counted.
* Soft evidence never grows a cluster beyond ``soft_max_size`` members (transitive chains of
  weak links would otherwise join unrelated users); hard links go up to ``max_size``.
* The ``template`` signal is a prompt *frame* (fixed text around a variable body): callers
  pass ``None`` for prompts without one, so common short phrases never link anybody.

Values are hashed (keyed BLAKE2b) before they leave this module. Each (account, value) is
reported to the store at most once per ``refresh`` seconds per process (soft signals once a
day), which keeps the store traffic far below the request rate.

A batch's sightings may carry stable ids (the stream's ``shard:entry id``): a batch that a
dead worker applied and never acknowledged, applied again by another worker, changes no
evidence and loses none (see :mod:`gateway.clusters.observations`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.auth.client_ip import ip_prefix
from gateway.clock import Clock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.config import ClustersPolicy, PolicyProvider
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.observations import (
    Observations,
    PairMatch,
    PairNote,
    PairRule,
    ValueAdd,
    ValueSeen,
)
from gateway.clusters.signals import DAY, day_of, window_of
from gateway.clusters.ttlmap import TtlMap
from gateway.clusters.types import AuditEntry, Evidence, LinkResult, hash_value
from gateway.model import Identity

SYNC_VALUE = "-"  # synchrony evidence has no shared value
Sighting = tuple[Identity, int | None, float]  # identity, template, time


@dataclass(frozen=True, slots=True)
class _Add:
    """One value a request adds, and which rule applies to it."""

    kind: Literal["hard", "soft", "synchrony"]
    call: ValueAdd


@dataclass(slots=True)
class LinkerStats:
    """Counters for metrics (read by the admin/metrics layer)."""

    observed: int = 0
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
        await self.observe_many([(identity, template, now)])

    async def observe_many(self, sightings: Sequence[Sighting], ids: Sequence[str] = ()) -> None:
        """Record many requests' signals, in order, in two round trips to the observations
        (every value added, then every pair noted), then link what now qualifies. ``ids``:
        the sightings' stable ids (none: every sighting counts whenever it is sent)."""
        policy = self._policy()
        if not policy.enabled:
            return
        adds: list[_Add] = []
        for index, (identity, template, now) in enumerate(sightings):
            self.stats.observed += 1
            sighting = ids[index] if ids else ""
            adds += self._adds(policy, identity, template, now, sighting)
        if not adds:
            return
        seen = await self._obs.add_values([a.call for a in adds])
        notes: list[tuple[_Add, PairNote]] = []
        for add, found in zip(adds, seen, strict=True):
            note = await self._after_add(policy, add, found)
            if note is not None:
                notes.append((add, note))
        if not notes:
            return
        matches = await self._obs.record_pairs_many([n for _, n in notes])
        for (add, _), found_matches in zip(notes, matches, strict=True):
            await self._link_matches(policy, add.call.account, found_matches, add.call.now)

    def _adds(
        self,
        policy: ClustersPolicy,
        identity: Identity,
        template: int | None,
        now: float,
        sighting: str,
    ) -> list[_Add]:
        """The values one request adds (each (account, value) once per refresh period)."""
        account = identity.account_id
        out: list[_Add] = []
        for name in policy.link_on.hard:
            raw = identity.attrs.get(name)
            if raw:
                value_hash = hash_value(name, raw, self._salt)
                if self._first_time(("h", account, name, value_hash), now, self._refresh):
                    ttl = policy.evidence_ttl
                    call = self._value(policy, name, value_hash, account, now, ttl, sighting)
                    out.append(_Add("hard", call))
        soft = policy.link_on.soft
        if "ip_prefix" in soft and identity.client_ip and _routable(identity.client_ip):
            prefix = ip_prefix(identity.client_ip)
            if prefix:
                out += self._soft(policy, account, "ip_prefix", prefix, now, sighting)
        if "template" in soft and template is not None:
            out += self._soft(policy, account, "template", f"{template:x}", now, sighting)
        if "synchrony" in soft:
            window = window_of(now, policy.synchrony.window)
            if self._first_time(("w", account, str(window)), now, policy.synchrony.window):
                ttl = max(policy.synchrony.window * 4, 60.0)
                call = self._value(policy, "synchrony", str(window), account, now, ttl, sighting)
                out.append(_Add("synchrony", call))
        return out

    def _soft(
        self,
        policy: ClustersPolicy,
        account: str,
        signal: str,
        raw: str,
        now: float,
        sighting: str,
    ) -> list[_Add]:
        value_hash = hash_value(signal, raw, self._salt)
        if not self._first_time(("s", account, signal, value_hash, str(day_of(now))), now, DAY):
            return []
        ttl = policy.observation_ttl
        return [_Add("soft", self._value(policy, signal, value_hash, account, now, ttl, sighting))]

    @staticmethod
    def _value(
        policy: ClustersPolicy,
        signal: str,
        value_hash: str,
        account: str,
        now: float,
        ttl: float,
        sighting: str,
    ) -> ValueAdd:
        limit = policy.hot_limit(signal)
        return ValueAdd(signal, value_hash, account, now, limit, ttl, sighting)

    def _first_time(self, key: tuple[str, ...], now: float, ttl: float) -> bool:
        if self._recent.fresh(key, now, ttl):
            return False
        self._recent.put(key, True, now)
        return True

    async def _after_add(
        self, policy: ClustersPolicy, add: _Add, seen: ValueSeen
    ) -> PairNote | None:
        """Report a value that turned hot, link a shared hard value; a soft value shared
        with others is returned as the pairs to note."""
        call = add.call
        if seen.newly_hot and add.kind != "synchrony":
            await self._report_hot(
                policy, call.signal, call.value_hash, whole_edges=add.kind == "soft"
            )
        if seen.hot or not seen.others:
            return None
        day = day_of(call.now)
        if add.kind == "hard":
            evidence = (Evidence(call.signal, call.value_hash, call.now, call.now, 1),)
            target = seen.others[0]
            result = await self._graph.link(
                target, call.account, evidence, reason=f"shared {call.signal}"
            )
            self._count(call.account, target, result)
            return None
        rule = self._rule(policy)
        if add.kind == "soft":
            return PairNote(
                call.account,
                seen.others,
                call.signal,
                call.value_hash,
                day,
                1,
                rule,
                "",
                call.sighting,
                call.now,
            )
        # a co-occurrence is one window: noting it again (another replica, a redelivered
        # sighting) counts it once
        need = policy.synchrony.min_cooccurrences
        return PairNote(
            call.account,
            seen.others,
            "synchrony",
            SYNC_VALUE,
            day,
            need,
            rule,
            call.value_hash,
            call.sighting,
            call.now,
        )

    @staticmethod
    def _rule(policy: ClustersPolicy) -> PairRule:
        return PairRule(policy.soft_min_signals, policy.soft_repeat_days, policy.observation_ttl)

    async def _link_matches(
        self, policy: ClustersPolicy, account: str, matches: list[PairMatch], now: float
    ) -> None:
        for match in matches:
            size = await self._soft_merged_size(match.other, account)
            if size > policy.soft_max_size:
                self.stats.refused += 1
                limit = policy.soft_max_size
                detail = {"refused": "soft_too_large", "merged_size": size, "max_size": limit}
                pair = (match.other, account)
                await self._graph.record(
                    AuditEntry(now, "refused", "linker", "soft link", pair, "", detail)
                )
                continue
            evidence = tuple(
                Evidence(s.signal, s.value_hash, now, now, s.days) for s in match.signals
            )
            names = "+".join(s.signal for s in match.signals)
            reason = f"soft signals {names}"
            result = await self._graph.link(match.other, account, evidence, reason=reason)
            self._count(account, match.other, result)

    async def _soft_merged_size(self, a: str, b: str) -> int:
        """Members of the cluster a link a-b would make (0 when they are already one)."""
        ia, ib = await self._graph.info(a), await self._graph.info(b)
        return 0 if ia.cluster_id == ib.cluster_id else ia.size + ib.size

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
            self._cache.expire_all()


def _routable(address: str) -> bool:
    """Loopback, link-local and unspecified addresses say nothing about the client (a local
    load balancer without GATEWAY_TRUSTED_PROXIES): they are never a linking signal."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)
