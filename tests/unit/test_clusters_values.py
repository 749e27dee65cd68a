"""The linker's evidence values on Redis: a value seen by one account is a record in its
shard's hash, moved into a zset of its own when a second account sees it (and back when the
others expire); expired records are swept by later writes. The answers are the memory
store's."""

from __future__ import annotations

import random

from redis.asyncio import Redis

from gateway.clusters.observations import MemoryObservations, ValueAdd
from gateway.clusters.observations_redis import VALUE_SHARDS, RedisObservations, value_shard
from gateway.redis.keys import KeyBuilder

T0 = 1_800_000_000.0
TTL = 3600.0


async def keys_of(client: Redis, prefix: str) -> list[str]:
    return sorted([key.decode() async for key in client.scan_iter(f"{prefix}:*")])


async def test_a_second_account_moves_the_record_into_a_zset(
    redis_client: Redis, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    obs = RedisObservations(redis_client, keys)
    base = keys.cluster_values(value_shard("template", "t1"))
    first = await obs.add_value("template", "t1", "a", T0, limit=3, ttl=TTL)
    assert (first.others, first.hot, first.new_member) == ((), False, True)
    assert await keys_of(redis_client, key_prefix) == [f"{base}:s"]  # no key of its own
    record = await redis_client.hget(f"{base}:s", "Tt1")
    assert record == f"{T0!r} a".encode()  # last seen, account
    again = await obs.add_value("template", "t1", "a", T0 + 5, limit=3, ttl=TTL)
    assert (again.others, again.new_member) == ((), False)
    second = await obs.add_value("template", "t1", "b", T0 + 10, limit=3, ttl=TTL)
    assert (second.others, second.hot, second.new_member) == (("a",), False, True)
    assert await redis_client.hget(f"{base}:s", "Tt1") is None  # moved
    members = await redis_client.zrange(f"{base}:v:template:t1", 0, -1, withscores=True)
    assert members == [(b"a", T0 + 5), (b"b", T0 + 10)]  # the record's last seen kept
    assert 0 < await redis_client.ttl(f"{base}:v:template:t1") <= TTL
    third = await obs.add_value("template", "t1", "c", T0 + 20, limit=3, ttl=TTL)
    assert third.others == ("a", "b")
    fourth = await obs.add_value("template", "t1", "d", T0 + 30, limit=3, ttl=TTL, sighting="s4")
    assert (fourth.hot, fourth.newly_hot) == (True, True)
    values = [key for key in await keys_of(redis_client, key_prefix) if "{xv:" in key]
    assert values == [f"{base}:hot:template:t1", f"{base}:s"]  # the zset gone, the flag set


async def test_a_record_expires_ttl_after_its_last_sighting(
    redis_client: Redis, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    obs = RedisObservations(redis_client, keys)
    await obs.add_value("ip_prefix", "p1", "a", T0, limit=3, ttl=TTL)
    alive = await obs.add_value("ip_prefix", "p1", "b", T0 + TTL - 1, limit=3, ttl=TTL)
    assert alive.others == ("a",)  # last seen within ttl: still there
    await obs.add_value("ip_prefix", "p2", "a", T0, limit=3, ttl=TTL)
    gone = await obs.add_value("ip_prefix", "p2", "b", T0 + TTL + 1, limit=3, ttl=TTL)
    assert (gone.others, gone.new_member) == ((), True)  # a's record expired: b's alone
    base = keys.cluster_values(value_shard("ip_prefix", "p2"))
    record = await redis_client.hget(f"{base}:s", "Ip2")
    assert record is not None and record.endswith(b" b")
    # a zset whose other members expired goes back to a record
    later = T0 + TTL + 100  # a's last seen is older than ttl, b's is not
    back = await obs.add_value("ip_prefix", "p1", "b", later, limit=3, ttl=TTL)
    assert (back.others, back.new_member) == ((), False)
    base1 = keys.cluster_values(value_shard("ip_prefix", "p1"))
    assert not await redis_client.exists(f"{base1}:v:ip_prefix:p1")
    assert await redis_client.hget(f"{base1}:s", "Ip1") == f"{later!r} b".encode()


async def test_expired_records_are_swept_by_later_writes_of_their_signal(
    redis_client: Redis, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    obs = RedisObservations(redis_client, keys)
    shard = value_shard("template", "v0")
    mates = [f"v{i}" for i in range(20000) if value_shard("template", f"v{i}") == shard][:31]
    prefix = next(f"p{i}" for i in range(20000) if value_shard("ip_prefix", f"p{i}") == shard)
    await obs.add_values([ValueAdd("template", v, "a", T0, 3, TTL) for v in mates[:30]])
    singles = f"{keys.cluster_values(shard)}:s"
    assert len(await redis_client.hkeys(singles)) == 31  # 30 records and the sweep's state
    assert 0 < await redis_client.ttl(singles) <= TTL
    # a signal with a shorter ttl sweeps only its own records, and does not shorten the TTL
    await obs.add_value("ip_prefix", prefix, "b", T0 + 600, limit=3, ttl=60.0)
    assert len(await redis_client.hkeys(singles)) == 33
    assert await redis_client.ttl(singles) > 60
    # a template write after ttl drops the expired template records (read as absent anyway)
    await obs.add_value("template", mates[30], "b", T0 + TTL + 1, limit=3, ttl=TTL)
    assert sorted(await redis_client.hkeys(singles)) == [
        b":I",
        b":T",
        f"I{prefix}".encode(),
        f"T{mates[30]}".encode(),
    ]
    # the next sweep is due ttl/8 later: records that expire meanwhile wait for it
    await obs.add_value("ip_prefix", prefix, "c", T0 + 700, limit=3, ttl=60.0)
    assert len(await redis_client.hkeys(singles)) == 4  # c's record replaced b's


async def test_random_values_answer_like_the_memory_store(
    redis_client: Redis, key_prefix: str
) -> None:
    """Values seen by one or a few accounts, over many ttls, sightings delivered again:
    every answer equals the memory store's (hot values: tests/unit/test_clusters_apply.py;
    their flags expire in real time on Redis, in the caller's time in memory)."""
    rng = random.Random(13)
    memory, redis_obs = (
        MemoryObservations(),
        RedisObservations(redis_client, KeyBuilder(key_prefix)),
    )
    now = T0
    for step in range(600):
        now += rng.choice([rng.uniform(0, 5), rng.uniform(10, 600), rng.uniform(900, 2500)])
        account = f"u{rng.randrange(12)}"
        value = f"x{rng.randrange(6)}" if rng.random() < 0.5 else f"{account}-{rng.randrange(3)}"
        sighting = f"s{step - 1}" if step % 50 == 7 else f"s{step}"  # some delivered again
        add = ValueAdd("template", value, account, now, 20, TTL, sighting)
        want = await memory.add_value(**_kwargs(add))
        assert (await redis_obs.add_values([add]))[0] == want, step
    assert len({value_shard("template", f"x{i}") for i in range(6)}) > 1
    assert VALUE_SHARDS >= 64


def _kwargs(add: ValueAdd) -> dict[str, object]:
    return {
        "signal": add.signal,
        "value_hash": add.value_hash,
        "account": add.account,
        "now": add.now,
        "limit": add.limit,
        "ttl": add.ttl,
        "sighting": add.sighting,
    }
