"""The linker's pairs: a pair lives ``ttl`` after its last note (its expiry written in its
record), and on Redis an account's pairs with the accounts above it share one hash."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from gateway.clusters.observations import MemoryObservations, Observations, PairRule
from gateway.clusters.observations_redis import RedisObservations, pair_shard
from gateway.redis.keys import KeyBuilder

RULE = PairRule(min_signals=2, repeat_days=2, ttl=3600.0)
T0 = 1_800_000_000.0


def stores(redis_client: Redis, key_prefix: str) -> dict[str, Observations]:
    return {
        "memory": MemoryObservations(),
        "redis": RedisObservations(redis_client, KeyBuilder(key_prefix)),
    }


@pytest.mark.parametrize("kind", ["memory", "redis"])
@pytest.mark.parametrize(("gap", "links"), [(RULE.ttl - 5, True), (RULE.ttl + 5, False)])
async def test_a_pairs_evidence_lives_ttl_after_its_last_note(
    redis_client: Redis, key_prefix: str, kind: str, gap: float, links: bool
) -> None:
    obs = stores(redis_client, key_prefix)[kind]
    day = int(T0 // 86400)
    first = await obs.record_pairs("a", ["b"], "template", "t1", day, need=1, rule=RULE, now=T0)
    assert first == []  # one day of one signal: not yet
    later = await obs.record_pairs(
        "b", ["a"], "template", "t1", day + 1, need=1, rule=RULE, now=T0 + gap
    )
    assert bool(later) is links  # a second day within ttl of the first links; after, alone


async def test_an_accounts_pairs_share_one_hash_and_expired_records_are_swept(
    redis_client: Redis, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    obs = RedisObservations(redis_client, keys)
    others = [f"z{i}" for i in range(20)]
    for occurrence in ("w1", "w2"):  # need 2: counted, then set (the count is dropped)
        await obs.record_pairs(
            "a", others, "synchrony", "-", 20000, need=2, rule=RULE, occurrence=occurrence, now=T0
        )
    found = sorted([key.decode() async for key in redis_client.scan_iter(f"{key_prefix}:*")])
    shard = pair_shard("a", "z0")
    assert found == [f"{keys.cluster_pairs(shard)}:a:a"]  # one key for the 20 pairs
    records = await redis_client.hgetall(found[0])
    assert len(records) == 21  # the 20 pairs and when the hash is next swept
    assert records[b"z3"] == f"{int(T0 + RULE.ttl)} Y20000=-".encode()
    # a note after the others expired: theirs are dropped, not merely ignored
    await obs.record_pairs("a", ["z0"], "template", "t", 20001, need=1, rule=RULE, now=T0 + 4000)
    records = await redis_client.hgetall(found[0])
    assert sorted(records) == [b"", b"z0"]
    assert records[b"z0"] == f"{int(T0 + 4000 + RULE.ttl)} T20001=t".encode()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_redelivered_sighting_gets_the_match_it_got(
    redis_client: Redis, key_prefix: str, kind: str
) -> None:
    obs = stores(redis_client, key_prefix)[kind]
    await obs.record_pairs("b", ["a"], "custom", "c1", 20000, need=1, rule=RULE, now=T0)
    first = await obs.record_pairs(
        "a", ["b"], "template", "t1", 20000, need=1, rule=RULE, sighting="0:1-0", now=T0
    )
    assert [m.other for m in first] == ["b"]
    assert {a.signal for a in first[0].signals} == {"custom", "template"}
    again = await obs.record_pairs(
        "a", ["b"], "template", "t1", 20000, need=1, rule=RULE, sighting="0:1-0", now=T0 + 1
    )
    other = await obs.record_pairs(
        "a", ["b"], "template", "t1", 20000, need=1, rule=RULE, sighting="0:2-0", now=T0 + 2
    )
    assert (again, other) == (first, [])  # given again to its sighting only
    if kind == "redis":
        keys = KeyBuilder(key_prefix)
        base = keys.cluster_pairs(pair_shard("a", "b"))
        record = await redis_client.hget(f"{base}:a:a", "b")
        assert record == f"{int(T0 + 2 + RULE.ttl)} T20000=t1! custom:20000=c1".encode()
        assert await redis_client.hget(f"{base}:m:a|b", "T20000") == (
            b"0:1-0=2|custom|c1|1|template|t1|1"
        )
