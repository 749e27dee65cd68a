"""The sighting stream on a real Redis and a real Redis Cluster: what the gateway's sink appends,
a worker's source reads once (every shard in one read), acknowledges, claims from a quiet
consumer, and counts when it was trimmed unread; a claimed entry too old to apply safely is
settled unapplied. Appends never raise: a failing Redis is counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry
from redis_servers import delete_prefix

from gateway.clock import FakeClock
from gateway.detection.batch import Sighting
from gateway.limiter.factory import build_backend
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.observability.metrics import Metrics
from gateway.redis.client import RedisClient
from gateway.redis.keys import KeyBuilder, slot_of
from gateway.redis.mux import Multiplexer
from gateway.redis.replies import text
from gateway.sightings import source_redis
from gateway.sightings.codec import SightingCodec
from gateway.sightings.metrics import DetectMetrics
from gateway.sightings.sink_redis import RedisSink, shard_of
from gateway.sightings.source import Entry
from gateway.sightings.source_redis import GROUP, RedisSource
from gateway.sightings.worker import MAX_CLAIM_AGE, DetectWorker

SHARDS = 4


@dataclass
class StreamEnv:
    client: RedisClient
    mux: Multiplexer | None
    keys: KeyBuilder
    metrics: Metrics

    def sink(self, maxlen: int = 100_000) -> RedisSink:
        return RedisSink(
            self.client, self.mux, self.keys, self.metrics, shards=SHARDS, maxlen=maxlen
        )

    def source(self, consumer: str, claim_idle: float = 30.0) -> tuple[RedisSource, DetectMetrics]:
        metrics = DetectMetrics(CollectorRegistry())
        source = RedisSource(
            self.client,
            self.keys,
            metrics,
            shards=SHARDS,
            consumer=consumer,
            count=50,
            claim_idle=claim_idle,
        )
        return source, metrics


@pytest.fixture(params=["redis", "cluster"])
async def stream(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[StreamEnv]:
    url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    backend = build_backend(url, prefix=key_prefix, timeout=2.0)
    assert backend.redis is not None
    assert (backend.mux is None) == (request.param == "cluster")  # a cluster splits by slot
    try:
        yield StreamEnv(backend.redis, backend.mux, backend.keys, Metrics())
    finally:
        await delete_prefix(backend.redis, key_prefix)
        await backend.close()


async def _read_all(source: RedisSource) -> list[Entry]:
    found: list[Entry] = []
    while batch := await source.read():
        found += batch
    return found


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_appended_sightings_are_read_once_in_order_per_account(stream: StreamEnv) -> None:
    sink = stream.sink()
    sent = {f"acct-{a}": [f"{a}:{i}".encode() for i in range(25)] for a in range(12)}
    for i in range(25):  # interleaved accounts, as requests arrive
        for account, payloads in sent.items():
            sink.append(account, payloads[i])
    await sink.drain()
    assert _sample(stream.metrics.registry, "gateway_sightings_appended_total") == 300
    source, metrics = stream.source("w1")
    await source.start()  # after the appends: a new group still reads them (from 0)
    entries = await _read_all(source)
    assert len(entries) == 300 and len({e.id for e in entries}) == 300
    assert all(e.id == f"{e.shard}:{e.stream_id}" for e in entries)
    for account, payloads in sent.items():
        mine = [e for e in entries if e.data.split(b":")[0] == account.split("-")[1].encode()]
        assert [e.data for e in mine] == payloads  # one shard, in order
        assert {e.shard for e in mine} == {shard_of(account, SHARDS)}
    assert await source.pending() == 300
    await source.ack(entries)
    assert await source.pending() == 0
    assert await source.read() == []
    total = sum(
        _sample(metrics.registry, "gateway_detect_stream_length", shard=str(n))
        for n in range(SHARDS)
    )
    assert total == 300  # acknowledged entries stay until the claim pass drops them
    await source.claim()  # a full pass over the pending entries (none): acknowledged dropped
    lengths = [await stream.client.xlen(stream.keys.sightings(n)) for n in range(SHARDS)]
    assert sum(lengths) == SHARDS  # each shard keeps its last delivered entry only


async def test_one_read_takes_every_shard_and_tells_when_more_waits(stream: StreamEnv) -> None:
    sink = stream.sink()
    for i in range(60):
        sink.append(f"acct-{i % 12}", b"spread")  # every shard, fewer than count (50) each
    await sink.drain()
    source, _ = stream.source("w1")
    await source.start()
    spread = await source.read()
    assert len(spread) == 60 and len({e.shard for e in spread}) == SHARDS
    assert not source.more()
    for _ in range(60):
        sink.append("acct-1", b"burst")  # one shard, beyond count
    await sink.drain()
    assert len(await source.read()) == 50 and source.more()
    assert len(await source.read()) == 10 and not source.more()


async def test_a_claimed_entry_older_than_the_id_window_is_settled_unapplied(
    stream: StreamEnv,
) -> None:
    clock = FakeClock(50_000.0)
    codec = SightingCodec()
    sink = stream.sink()
    for i, age in enumerate((MAX_CLAIM_AGE + 5.0, 1.0)):  # one too old, one recent
        at = clock.now() - age
        sighting = Sighting(
            Identity(f"acct-{i}", "free"),
            f"acct-{i}",
            1,
            Fingerprint(i, i, i, (0, 0, 0, 0), 0, 0, 5, 10, 0.0),
            RequestFeatures("chat", "m"),
            at,
        )
        sink.append(f"acct-{i}", codec.encode(sighting))
    await sink.drain()
    dead, _ = stream.source("dead-worker")
    await dead.start()
    assert len(await _read_all(dead)) == 2  # delivered (maybe applied), never acknowledged
    alive, metrics = stream.source("live-worker", claim_idle=0.05)
    applied: list[str] = []

    async def apply(batch: Sequence[tuple[str, Sighting]]) -> None:
        applied.extend(s.identity.account_id for _, s in batch)

    worker = DetectWorker(alive, apply, metrics, clock)
    await asyncio.sleep(0.2)  # past claim_idle
    assert await worker.step()
    assert applied == ["acct-1"]
    assert _sample(metrics.registry, "gateway_detect_expired_total") == 1
    assert await alive.pending() == 0  # both settled: the old one is never claimed again


async def test_the_claim_pass_keeps_what_is_pending_or_unread(stream: StreamEnv) -> None:
    sink = stream.sink()
    route = "acct-1"  # one shard
    for i in range(30):
        sink.append(route, f"{i}".encode())
    await sink.drain()
    source, _ = stream.source("w1")
    await source.start()
    first = await source.read()  # 30 delivered (count 50)
    await source.ack(first[:10])  # 10 acknowledged, 20 pending
    for i in range(30, 35):
        sink.append(route, f"{i}".encode())  # 5 not yet delivered
    await sink.drain()
    await source.claim()
    key = stream.keys.sightings(shard_of(route, SHARDS))
    kept = [entry[1][b"s"] for entry in await stream.client.xrange(key)]
    assert kept == [f"{i}".encode() for i in range(10, 35)]


async def test_a_quiet_consumers_pending_entries_are_claimed_once(
    stream: StreamEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # quiet consumers are forgotten after two claim periods here (ten in production), so
    # that claim_idle can be long (1 s): the claim loop below, slow on a loaded machine,
    # must not find its own claimed entries idle again
    monkeypatch.setattr(source_redis, "FORGET_AFTER", 2)
    sink = stream.sink()
    for i in range(40):
        sink.append(f"acct-{i % 7}", f"s{i}".encode())
    await sink.drain()
    dead, _ = stream.source("dead-worker")
    await dead.start()
    taken = await _read_all(dead)  # read, never acknowledged: the worker "died"
    assert len(taken) == 40
    alive, metrics = stream.source("live-worker", claim_idle=1.0)
    await alive.start()
    assert await alive.read() == []  # nothing new: only the claim finds them
    await asyncio.sleep(2.6)  # past claim_idle and two claim periods, for the cleanup
    claimed: list[Entry] = []
    while batch := await alive.claim():
        claimed += batch
    assert sorted(e.id for e in claimed) == sorted(e.id for e in taken)
    assert [e.data for e in sorted(claimed, key=lambda e: e.id)] == [
        e.data for e in sorted(taken, key=lambda e: e.id)
    ]
    assert _sample(metrics.registry, "gateway_detect_claimed_total") == 40
    await alive.ack(claimed)
    assert await alive.pending() == 0
    assert await alive.claim() == []
    key = stream.keys.sightings(taken[0].shard)
    names = {text(c["name"]) for c in await stream.client.xinfo_consumers(key, GROUP)}
    assert "dead-worker" not in names  # held nothing, quiet for FORGET_AFTER claim periods: removed
    assert "live-worker" in names


async def test_entries_trimmed_before_any_read_are_counted(stream: StreamEnv) -> None:
    sink = stream.sink(maxlen=10)  # MAXLEN ~ trims whole nodes (100 entries) at a time
    for i in range(1000):
        sink.append(f"acct-{i % 5}", b"x")
    await sink.drain()
    source, metrics = stream.source("w1")
    await source.start()
    delivered = len(await _read_all(source))
    trimmed = sum(
        _sample(metrics.registry, "gateway_detect_trimmed_total", shard=str(n))
        for n in range(SHARDS)
    )
    assert 0 < delivered < 1000
    assert trimmed + delivered == 1000


async def test_entries_trimmed_while_a_worker_fell_behind_are_counted_once(
    stream: StreamEnv,
) -> None:
    source, metrics = stream.source("w1")
    await source.start()  # the group exists before anything is appended
    early = stream.sink()
    for _ in range(40):
        early.append("acct-1", b"early")
    await early.drain()
    delivered = await _read_all(source)  # read and acknowledged: the worker kept up
    await source.ack(delivered)
    late = stream.sink(maxlen=10)  # then it falls behind: MAXLEN ~ trims unread entries
    for _ in range(1000):
        late.append("acct-1", b"late")
    await late.drain()
    delivered += await _read_all(source)
    delivered += await _read_all(source)  # a read after catching up adds nothing
    shard = str(shard_of("acct-1", SHARDS))
    trimmed = _sample(metrics.registry, "gateway_detect_trimmed_total", shard=shard)
    assert 0 < trimmed < 1000
    assert trimmed + len(delivered) == 1040


async def test_a_failing_redis_is_counted_never_raised(key_prefix: str) -> None:
    backend = build_backend("redis://127.0.0.1:1/0", prefix=key_prefix, timeout=0.5)
    assert backend.redis is not None
    metrics = Metrics()
    sink = RedisSink(backend.redis, backend.mux, backend.keys, metrics, shards=2, maxlen=100)
    for i in range(5):
        sink.append(f"acct-{i}", b"x")  # no exception, no await
    await sink.drain()
    assert _sample(metrics.registry, "gateway_sightings_dropped_total", reason="error") == 5
    assert _sample(metrics.registry, "gateway_sightings_appended_total") == 0
    await backend.close()


def test_the_shards_spread_over_cluster_slots() -> None:
    keys = KeyBuilder("dg")
    slots = {slot_of(keys.sightings(n)) for n in range(8)}
    assert len(slots) == 8
    # a 3-node cluster splits the 16384 slots in thirds: every node holds some shard
    assert {slot * 3 // 16384 for slot in slots} == {0, 1, 2}
