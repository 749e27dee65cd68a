"""The only place Redis key names are built.

Layout (``dg`` is the configurable prefix)::

    dg:{c:<cluster>}:a:<account>:<budget>     account (and account-per-model) budgets
    dg:{c:<cluster>}:c:<budget>               cluster budgets
    dg:{c:<cluster>}:lvl:a:<account>          detection level of an account
    dg:{c:<cluster>}:lvl:c                    detection level of the cluster
    dg:{c:<cluster>}:clr:a:<account>          challenge clearance of an account
    dg:{g:<name>}:<budget>                    global budgets (per model, per route)
    dg:{x:clusters}:g[:<suffix>]              the cluster graph (suffixes: clusters/lua/common.lua)
    dg:{xp:<shard>}:<a|m|hot>:...             one shard of the linker's pairs (crc32 of the
                                              pair's lower account mod PAIR_SHARDS): a hash per
                                              lower account, its pairs' matches, its copies of
                                              the hot flags (clusters/lua/pair.lua;
                                              clusters/observations_redis)
    dg:{xv:<shard>}:s                         one shard of the linker's evidence values (crc32
    dg:{xv:<shard>}:<v|hot>:<signal>:<hash>   of signal:hash mod VALUE_SHARDS): a hash of the
                                              values seen by one account (a record each), a
                                              zset per value seen by more, hot flags
                                              (clusters/lua/value.lua; observations_redis)
    dg:{det:<entity>}:<part>...               detector state of one entity (account, cluster)
    dg:{dettpl:<template>}                    template fan-out (detection, global)
    dg:{detco:<bucket>}                       episode starts of one time bucket (co-activity)
    dg:{seen:<account>}                       last seen record of an account
    dg:{pow:<jti>}                            proof-of-work replay guard
    dg:{sig:<shard>}                          one shard of the sighting stream (XADD/XREADGROUP)
    dg:{sig:<shard>}:trimmed                  its entries trimmed before any worker read them
    dg:{x:<name>}:...                         other subsystem state under its own tag

Everything that one request's budget script touches for an account and its cluster shares
the hash tag ``{c:<cluster>}``, so it lives in one Redis Cluster slot and is checked in one
atomic script. Global budgets live in their own slot; on Redis Cluster they are checked by a
second script in the same pipeline (see ``redis_store``), compensated if the first refuses.

Values written by the budget scripts (other subsystems read them through the store)::

    bucket        string: the theoretical arrival time (float seconds); TTL until full
    window        string: BITFIELD i64 window index at bit 0, i64 count at bit 64
    novelty       the same header, then the window's cells: 2 bytes per cell while it has
                  at most 256, all below 2^14 (the index stored as -1 - index), else one
                  bit per cell from bit 128 (limiter/lua/cells.lua)
    concurrency   sorted set: request id -> lease expiry
    level         "<level>@<expiry>" (a bare integer is accepted too); TTL
    flag          "@<expiry>" (clearances, replay guards); TTL

A solitary account is its own cluster (cluster id == account id). When an account joins a
cluster its budget keys move with the new tag: its per-account buckets start full again,
while the cluster budget (the one that matters against a hydra) keeps counting.
"""

from __future__ import annotations

import re

from redis.crc import key_slot

_UNSAFE = re.compile(r"[{}\s]")


def _clean(part: str) -> str:
    """Braces would break hash tags; whitespace breaks logs. Replace both."""
    return _UNSAFE.sub("_", part)


def slot_of(key: str) -> int:
    """The Redis Cluster hash slot of ``key`` (its hash tag's, when it has one)."""
    return int(key_slot(key.encode()))


class KeyBuilder:
    def __init__(self, prefix: str = "dg") -> None:
        self.prefix = _clean(prefix)

    def tag(self, cluster_id: str) -> str:
        return f"{self.prefix}:{{c:{_clean(cluster_id)}}}"

    def account_budget(self, cluster_id: str, account_id: str, budget: str) -> str:
        return f"{self.tag(cluster_id)}:a:{_clean(account_id)}:{_clean(budget)}"

    def cluster_budget(self, cluster_id: str, budget: str) -> str:
        return f"{self.tag(cluster_id)}:c:{_clean(budget)}"

    def global_budget(self, name: str, budget: str) -> str:
        return f"{self.prefix}:{{g:{_clean(name)}}}:{_clean(budget)}"

    def account_level(self, cluster_id: str, account_id: str) -> str:
        return f"{self.tag(cluster_id)}:lvl:a:{_clean(account_id)}"

    def cluster_level(self, cluster_id: str) -> str:
        return f"{self.tag(cluster_id)}:lvl:c"

    def account_clearance(self, cluster_id: str, account_id: str) -> str:
        return f"{self.tag(cluster_id)}:clr:a:{_clean(account_id)}"

    def cluster_graph(self) -> str:
        """Base key of the cluster graph (one slot: every graph key extends it)."""
        return self.subsystem("clusters", "g")

    def cluster_pairs(self, shard: int) -> str:
        """Base key of one shard of the linker's pairs and their copies of the hot flags
        (each shard its own tag, so the pairs spread over a Redis Cluster's slots)."""
        return self.subsystem_entity("xp", str(shard))

    def cluster_values(self, shard: int) -> str:
        """Base key of one shard of the linker's evidence values: their records, sets and
        hot flags (each shard its own tag, so the values spread over a Redis Cluster)."""
        return self.subsystem_entity("xv", str(shard))

    def detection(self, entity: str, *parts: str) -> str:
        """Detector state of one entity, all of it in the entity's slot."""
        return self.subsystem_entity("det", entity, *parts)

    def detection_template(self, template: str) -> str:
        """Fan-out of one prompt template across accounts (global, its own slot)."""
        return self.subsystem_entity("dettpl", template)

    def newcomers_epoch(self) -> str:
        """When the detector first recorded anyone (newcomer cohorts' warm-up; one key)."""
        return self.subsystem("detnew", "epoch")

    def newcomer_cohort(self, cell: str, bucket: int) -> str:
        """The newcomers of one cohort cell first seen in one time bucket (its own slot)."""
        return self.subsystem_entity("detnew", cell, str(bucket))

    def newcomer_asks(self, cell: str, bucket: int) -> str:
        """The asks (a HyperLogLog) brought by the joins of one newcomer cohort bucket (the
        cohort's slot)."""
        return self.subsystem_entity("detnew", cell, str(bucket), "asks")

    def seen(self, account: str) -> str:
        """The last seen record of an account."""
        return self.subsystem_entity("seen", account)

    def sightings(self, shard: int) -> str:
        """One shard of the sighting stream (gateway -> ``gateway detect``); each shard has
        its own tag, so the shards spread over a Redis Cluster's slots."""
        return self.subsystem_entity("sig", str(shard))

    def sightings_trimmed(self, shard: int) -> str:
        """How many entries of a shard were trimmed before any worker read them (its slot)."""
        return self.subsystem_entity("sig", str(shard), "trimmed")

    def pow_used(self, jti: str) -> str:
        """Replay guard of a solved proof-of-work challenge."""
        return self.subsystem_entity("pow", jti)

    def subsystem(self, system: str, *parts: str) -> str:
        """State of a subsystem (clusters graph, detection, challenges) under its own tag."""
        rest = ":".join(_clean(p) for p in parts)
        base = f"{self.prefix}:{{x:{_clean(system)}}}"
        return f"{base}:{rest}" if rest else base

    def subsystem_entity(self, system: str, entity: str, *parts: str) -> str:
        """Per-entity subsystem state, tagged by the entity so that it spreads over slots."""
        rest = ":".join(_clean(p) for p in parts)
        base = f"{self.prefix}:{{{_clean(system)}:{_clean(entity)}}}"
        return f"{base}:{rest}" if rest else base
