"""Asks kept in stored state (:mod:`gateway.detection.chains`): memory, a real Redis and a
Redis Cluster answer alike, in order within a batch, idempotently, bounded per account."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis_servers import delete_prefix

from gateway.detection.chains import ChainRequest, ChainStore, Continued, MemoryChains
from gateway.detection.chains_redis import RedisChains
from gateway.redis.client import RedisClient, redis_client
from gateway.redis.keys import KeyBuilder

DAY = 86_400.0
NOW = 1_800_000_000.0
Rig = tuple[ChainStore, RedisClient | None, str]
ROOT, OTHER = 0xA1, 0xB2


def req(
    account: str, parent: int, stored: int, ask: float, cap: int = 512, now: float = NOW
) -> ChainRequest:
    return ChainRequest(account, parent, stored, ask, now, DAY, cap)


async def asks(store: ChainStore, requests: list[ChainRequest]) -> list[float]:
    return [c.ask for c in await store.inherit_many(requests)]


@pytest.fixture(params=["memory", "redis", "cluster"])
async def chains(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[Rig]:
    if request.param == "memory":
        yield MemoryChains(), None, key_prefix
        return
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    client = redis_client(request.getfixturevalue(fixture), timeout=2.0)
    try:
        yield RedisChains(client, KeyBuilder(key_prefix)), client, key_prefix
    finally:
        await delete_prefix(client, key_prefix)
        await client.aclose()


@pytest.mark.redis
async def test_a_root_ask_reaches_its_branches_and_down_a_chain(
    chains: Rig,
) -> None:
    store, _, _ = chains
    batch = [
        req("a1", 0, ROOT, 0.8),  # the root asks for the working
        req("a1", ROOT, 0x10, 0.0),  # a bare task branching off it, in the same batch
        req("a1", 0x10, 0x11, 0.0),  # a link further down: the ask travels
        req("a2", ROOT, 0x20, 0.0),  # another account naming the same ref inherits nothing
        req("a1", OTHER, 0x12, 0.0),  # a ref never stored
    ]
    assert await asks(store, batch) == [0.0, 0.8, 0.8, 0.0, 0.0]
    later = [req("a1", ROOT, 0x13, 0.3), req("a1", 0x12, 0, 0.0), req("a3", 0, 0x30, 0.0)]
    assert await asks(store, later) == [0.8, 0.0, 0.0]
    # applying a batch again (a worker's redelivery) inherits the same asks
    assert await asks(store, batch) == [0.0, 0.8, 0.8, 0.0, 0.0]


@pytest.mark.redis
async def test_a_chat_continued_answer_by_answer_follows_up_a_root_branched_off_does_not(
    chains: Rig,
) -> None:
    store, _, _ = chains
    chat = [req("a1", 0, 0x50, 0.6)] + [req("a1", 0x50 + i, 0x51 + i, 0.0) for i in range(6)]
    found = await store.inherit_many(chat)
    assert [c.follow_up(r.parent) for c, r in zip(found, chat, strict=True)] == [False] + [True] * 6
    assert [c.ask for c in found] == [0.0] + [0.6] * 6  # the ask travels down the chat
    tasks = [req("a1", ROOT, 0x60 + i, 0.0) for i in range(6)]
    found = await store.inherit_many([req("a1", 0, ROOT, 0.0), *tasks])
    # a regenerated or edited turn is no branch; the fourth request off one answer is
    assert [c.before for c in found[1:]] == [0, 1, 2, 3, 4, 5]
    assert [c.follow_up(ROOT) for c in found[1:]] == [True] * 3 + [False] * 3


@pytest.mark.redis
async def test_a_redelivered_batch_counts_no_continuation_twice(chains: Rig) -> None:
    store, _, _ = chains
    batch = [req("a1", 0, ROOT, 0.7)] + [req("a1", ROOT, 0x70 + i, 0.0) for i in range(2)]
    first = await store.inherit_many(batch)
    assert [c.before for c in first[1:]] == [0, 1]
    await store.inherit_many(batch)  # a worker died before acknowledging it
    nxt = await store.inherit_many([req("a1", ROOT, 0x80, 0.0)])
    assert nxt == [Continued(0.7, 2)]  # two distinct continuations before it, not four


@pytest.mark.redis
async def test_refs_are_read_one_epoch_back_and_the_cap_is_per_epoch(chains: Rig) -> None:
    store, _, _ = chains
    day0, day1, day2 = (
        NOW - NOW % DAY + 10,
        NOW - NOW % DAY + DAY + 10,
        NOW - NOW % DAY + 2 * DAY + 10,
    )
    await store.inherit_many([req("a1", 0, ROOT, 0.6, cap=2, now=day0)])
    await store.inherit_many([req("a1", 0, 0x90 + i, 0.6, cap=2, now=day0) for i in range(3)])
    # the next day: the root is read from the day before, and is kept again today
    assert await store.inherit_many([req("a1", ROOT, 0x99, 0.0, cap=2, now=day1)]) == [
        Continued(0.6, 0)
    ]
    fresh = [req("a1", 0, 0xA0 + i, 0.5, cap=2, now=day1) for i in range(3)]
    await store.inherit_many(fresh)  # today's cap: the root, 0x99, then nothing new
    probe = [req("a1", 0xA0, 0, 0.0, cap=2, now=day1)]
    assert await store.inherit_many(probe) == [Continued(0.0, -1)]
    # two days on: what day 0 kept is gone, what day 1 kept (the root again) is read
    found = await store.inherit_many(
        [req("a1", 0x90, 0, 0.0, cap=8, now=day2), req("a1", ROOT, 0, 0.0, cap=8, now=day2)]
    )
    assert found == [Continued(0.0, 0), Continued(0.6, 1)]


@pytest.mark.redis
async def test_a_conversation_keeps_its_greatest_ask(
    chains: Rig,
) -> None:
    store, _, _ = chains
    conv = 0xC0
    steps = [req("a1", conv, conv, 0.0), req("a1", conv, conv, 0.6), req("a1", conv, conv, 0.2)]
    found = await store.inherit_many(steps)
    assert [c.ask for c in found] == [0.0, 0.0, 0.6]
    assert all(c.follow_up(conv) for c in found)  # appending to a conversation: its course
    assert await store.inherit_many([req("a1", conv, conv, 0.0)]) == [Continued(0.6, 0)]


@pytest.mark.redis
async def test_remembered_refs_are_capped_and_asks_without_evidence_are_not_kept(
    chains: Rig,
) -> None:
    store, client, prefix = chains
    roots = [req("a1", 0, 0x100 + i, 0.5, cap=3) for i in range(5)]
    plain = [req("a1", 0, 0x200, 0.0, cap=3)]
    await store.inherit_many(roots + plain)
    probe = [req("a1", 0x100 + i, 0, 0.0, cap=3) for i in range(5)]
    probe.append(req("a1", 0x200, 0, 0.0, cap=3))
    found = await store.inherit_many(probe)
    assert [c.ask for c in found] == [0.5, 0.5, 0.5, 0.0, 0.0, 0.0]
    assert [c.before for c in found] == [0, 0, 0, -1, -1, -1]  # not kept: cap full
    assert not found[3].follow_up(0x103)  # read as a new ask, as before chains were read
    # a kept ref is still raised past the cap, its count kept
    await store.inherit_many([req("a1", 0, 0x100, 0.9, cap=3)])
    assert await store.inherit_many([req("a1", 0x100, 0, 0.0, cap=3)]) == [Continued(0.9, 1)]
    if client is not None:  # one small hash with a ttl per account that asked
        keys = [k async for k in client.scan_iter(match=f"{prefix}*chains*")]
        assert len(keys) == 1
        assert 0 < await client.ttl(keys[0]) <= 2 * DAY
        assert await client.hlen(keys[0]) == 3
