"""The worker loop on the in-process stream: batches are applied with their ids and then
acknowledged; a failed batch stays pending (counted); an entry no codec reads is counted and
acknowledged; lag is request time -> applied; stop finishes the batch in hand; reads are
paced (a backlog is read on at once); a claimed entry older than the window of remembered ids
is acknowledged unapplied (counted)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from gateway.clock import FakeClock
from gateway.detect import run_detect
from gateway.detection.batch import Sighting
from gateway.detection.state import APPLIED_HORIZON
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from gateway.sightings.codec import SightingCodec
from gateway.sightings.metrics import DetectMetrics
from gateway.sightings.source import Entry, MemoryStream
from gateway.sightings.worker import MAX_CLAIM_AGE, DetectWorker
from gateway.startup import StartupError
from gateway.store_errors import StoreUnavailable


def _sighting(i: int, now: float) -> Sighting:
    return Sighting(
        Identity(f"acct-{i % 3}", "free"),
        f"acct-{i % 3}",
        1,
        Fingerprint(i, i, i, (0, 0, 0, 0), 0, 0, 5, 10, 0.0),
        RequestFeatures("chat", "m"),
        now,
    )


class _Apply:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen: list[tuple[str, Sighting]] = []

    async def __call__(self, batch: Sequence[tuple[str, Sighting]]) -> None:
        if self.fail:
            raise RuntimeError("store down")
        self.seen += batch


def _rig(apply: _Apply) -> tuple[MemoryStream, DetectWorker, DetectMetrics, FakeClock]:
    clock = FakeClock(1000.0)
    detect = DetectMetrics(CollectorRegistry())
    stream = MemoryStream(Metrics(), detect, maxlen=1000, batch=4)
    return stream, DetectWorker(stream, apply, detect, clock), detect, clock


def _value(metrics: DetectMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels or None) or 0.0


async def test_batches_are_applied_with_their_ids_then_acknowledged() -> None:
    apply = _Apply()
    stream, worker, metrics, clock = _rig(apply)
    codec = SightingCodec()
    for i in range(10):
        stream.append(f"acct-{i % 3}", codec.encode(_sighting(i, clock.now() - 2.0)))
    worker.start()
    await worker.drain()
    await worker.stop()
    assert [s.fingerprint.exact for _, s in apply.seen] == list(range(10))
    assert len({sid for sid, _ in apply.seen}) == 10
    assert await stream.pending() == 0
    assert _value(metrics, "gateway_detect_sightings_total") == 10
    assert _value(metrics, "gateway_detect_batches_total") == 3  # batches of at most 4
    assert _value(metrics, "gateway_detect_batch_sightings_count") == 3
    assert _value(metrics, "gateway_detect_batch_sightings_sum") == 10
    assert _value(metrics, "gateway_detect_batch_sightings_bucket", le="2.0") == 1  # 4, 4, 2
    assert _value(metrics, "gateway_detect_lag_seconds_sum") == 20.0  # 2 s each


async def test_a_failed_batch_stays_pending_and_is_counted() -> None:
    stream, worker, metrics, clock = _rig(_Apply(fail=True))
    stream.append("acct-0", SightingCodec().encode(_sighting(0, clock.now())))
    assert await worker.step()
    assert await stream.pending() == 1  # not acknowledged: a claim brings it back
    assert _value(metrics, "gateway_detect_failed_total") == 1
    assert _value(metrics, "gateway_detect_sightings_total") == 0


async def test_an_undecodable_entry_is_counted_and_acknowledged() -> None:
    apply = _Apply()
    stream, worker, metrics, clock = _rig(apply)
    stream.append("acct-0", b'[99, "a sighting of a future version"]')
    stream.append("acct-0", SightingCodec().encode(_sighting(1, clock.now())))
    assert await worker.step()
    assert await stream.pending() == 0
    assert _value(metrics, "gateway_detect_undecodable_total") == 1
    assert [s.fingerprint.exact for _, s in apply.seen] == [1]


async def test_a_full_stream_drops_its_oldest_and_counts_them() -> None:
    detect = DetectMetrics(CollectorRegistry())
    stream = MemoryStream(Metrics(), detect, maxlen=3)
    for i in range(5):
        stream.append("acct-0", str(i).encode())
    assert [e.data for e in await stream.read()] == [b"2", b"3", b"4"]
    trimmed = detect.registry.get_sample_value("gateway_detect_trimmed_total", {"shard": "0"})
    assert trimmed == 2


async def test_stop_wakes_an_idle_worker() -> None:
    stream, _, metrics, clock = _rig(_Apply())
    worker = DetectWorker(stream, _Apply(), metrics, clock, idle_wait=3600.0)
    worker.start()
    await asyncio.sleep(0.01)  # the worker waits for sightings now
    async with asyncio.timeout(30):  # a stop that waited for the idle hour would fail here
        await worker.stop()


async def test_gateway_detect_refuses_the_memory_store_in_one_line() -> None:
    with pytest.raises(StartupError, match="needs a Redis store"):
        await run_detect(Settings(store="memory://"))


class _DeadSource(MemoryStream):
    """Every read fails, as on a Redis that is down; counts the reads and the waits."""

    def __init__(self) -> None:
        super().__init__(Metrics(), DetectMetrics(CollectorRegistry()), maxlen=10)
        self.reads = 0
        self.waits = 0

    async def read(self) -> list[Entry]:
        self.reads += 1
        raise StoreUnavailable("down")

    def settled(self) -> bool:
        return False  # only a read could tell

    async def wait(self, seconds: float) -> None:
        self.waits += 1
        await asyncio.sleep(0.01)


async def test_a_failing_store_is_retried_at_the_poll_interval_even_while_draining() -> None:
    source = _DeadSource()
    worker = DetectWorker(source, _Apply(), source.detect_metrics, FakeClock(), idle_wait=1.0)
    worker.start()
    draining = asyncio.ensure_future(worker.drain())  # never done while the store is down
    await asyncio.sleep(0.2)
    assert not draining.done()
    assert source.reads <= source.waits + 1  # every failed read waited: no busy loop
    draining.cancel()
    await worker.stop()


class _Counting(MemoryStream):
    """The in-process stream, counting the worker's reads."""

    reads = 0

    async def read(self) -> list[Entry]:
        self.reads += 1
        return await super().read()


async def test_a_small_batch_lingers_before_the_next_read_unless_someone_drains() -> None:
    apply = _Apply()
    clock = FakeClock(1000.0)
    detect = DetectMetrics(CollectorRegistry())
    stream = _Counting(Metrics(), detect, maxlen=1000, batch=4)
    codec = SightingCodec()
    worker = DetectWorker(stream, apply, detect, clock, linger=30.0)
    stream.append("acct-0", codec.encode(_sighting(0, clock.now())))
    worker.start()
    for _ in range(50):  # the loop runs; a worker without linger would read again at once
        await asyncio.sleep(0)
    assert stream.reads == 1 and len(apply.seen) == 1
    stream.append("acct-1", codec.encode(_sighting(1, clock.now())))
    await worker.drain()  # a drain does not wait out the linger
    assert len(apply.seen) == 2
    await worker.stop()  # nor does a stop


async def test_without_linger_the_worker_reads_again_at_once() -> None:
    clock = FakeClock(1000.0)
    detect = DetectMetrics(CollectorRegistry())
    stream = _Counting(Metrics(), detect, maxlen=1000, batch=4)
    worker = DetectWorker(stream, _Apply(), detect, clock, linger=0.0)
    stream.append("acct-0", SightingCodec().encode(_sighting(0, clock.now())))
    worker.start()
    for _ in range(50):
        await asyncio.sleep(0)
    assert stream.reads >= 2
    await worker.stop()


async def test_a_backlog_is_read_on_at_once_then_reads_are_paced() -> None:
    apply = _Apply()
    clock = FakeClock(1000.0)
    detect = DetectMetrics(CollectorRegistry())
    stream = _Counting(Metrics(), detect, maxlen=1000, batch=4)
    codec = SightingCodec()
    for i in range(10):  # 4 + 4 + 2: the first two reads stop at their count
        stream.append(f"acct-{i % 3}", codec.encode(_sighting(i, clock.now())))
    worker = DetectWorker(stream, apply, detect, clock, linger=30.0)
    worker.start()
    for _ in range(100):
        await asyncio.sleep(0)
    assert stream.reads == 3 and len(apply.seen) == 10  # then the 30 s pause
    stream.append("acct-0", codec.encode(_sighting(10, clock.now())))
    for _ in range(100):
        await asyncio.sleep(0)
    assert stream.reads == 3  # however many arrived: the next read waits out the period
    await worker.stop()


class _Claiming(MemoryStream):
    """The in-process stream with entries to claim, as left pending by a dead consumer."""

    def __init__(self, metrics: DetectMetrics, pending: list[Entry]) -> None:
        super().__init__(Metrics(), metrics, maxlen=100)
        self.pending_entries = pending
        self.acked: list[Entry] = []

    async def claim(self) -> list[Entry]:
        claimed, self.pending_entries = self.pending_entries, []
        return claimed

    async def ack(self, entries: Sequence[Entry]) -> None:
        self.acked += entries


async def test_a_claimed_sighting_older_than_the_id_window_is_never_applied() -> None:
    """Ids are remembered APPLIED_HORIZON seconds after they were applied: an entry pending
    longer may have been applied by the dead worker and forgotten since. It is acknowledged
    and counted, never applied (again)."""
    clock = FakeClock(10_000.0)
    codec = SightingCodec()
    ages = {"old": MAX_CLAIM_AGE + 1.0, "young": MAX_CLAIM_AGE - 1.0}
    pending = [
        Entry(f"0:{name}", 0, name, codec.encode(_sighting(i, clock.now() - age)))
        for i, (name, age) in enumerate(ages.items())
    ]
    metrics = DetectMetrics(CollectorRegistry())
    source, apply = _Claiming(metrics, pending), _Apply()
    worker = DetectWorker(source, apply, metrics, clock)
    assert await worker.step()
    assert [sid for sid, _ in apply.seen] == ["0:young"]
    assert {e.id for e in source.acked} == {"0:old", "0:young"}  # both settled
    assert _value(metrics, "gateway_detect_expired_total") == 1
    assert _value(metrics, "gateway_detect_sightings_total") == 1
    assert MAX_CLAIM_AGE < APPLIED_HORIZON  # inside the window, with a margin


async def test_a_read_sighting_is_applied_however_old() -> None:
    """Entries read for the first time were never delivered, so never applied: a backlog
    older than the window (every worker down for minutes) is applied, not refused."""
    apply = _Apply()
    stream, worker, metrics, clock = _rig(apply)
    stream.append("acct-0", SightingCodec().encode(_sighting(0, clock.now() - 3600.0)))
    assert await worker.step()
    assert len(apply.seen) == 1
    assert _value(metrics, "gateway_detect_expired_total") == 0


def test_the_claim_delay_stays_well_inside_the_age_limit_of_claims() -> None:
    with pytest.raises(ValidationError):
        Settings(detect_claim_idle=MAX_CLAIM_AGE)
    assert Settings(detect_claim_idle=120).detect_claim_idle * 2 <= MAX_CLAIM_AGE
