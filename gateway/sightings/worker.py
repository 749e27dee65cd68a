"""The worker loop: read a batch of sightings, apply it, acknowledge it; now and then claim
what a dead consumer left pending.

One loop per process (``gateway detect``; with the memory store, a task inside the gateway).
A batch is decoded, handed to the apply function as ``(sighting id, Sighting)`` pairs, and
acknowledged only once applied: a worker killed mid-batch leaves its entries pending, and
another worker claims them after ``claim_interval``. A batch whose apply fails is left
pending too (counted, claimed again later); an entry that no codec version here can read is
counted and acknowledged (it would never apply). ``stop`` ends the loop between batches: the
batch in hand is applied and acknowledged first (SIGTERM).

Pacing (``linger``): reads start at most every ``linger`` seconds, whatever they found, unless
a read stopped at its count (a backlog: the next read follows at once) or someone drains or
stops. Under a steady load every batch thus holds what arrived in one period (or during the
previous apply, when that took longer): each entity is scored once for all of them, and the
batches never alternate between a full one and the few sightings that came while it was
applied. Detection lag grows by at most ``linger``.

A claimed entry whose request is older than ``max_age`` seconds is acknowledged without being
applied (``gateway_detect_expired_total``): the apply side remembers the ids it applied only
for :data:`~gateway.detection.state.APPLIED_HORIZON` seconds, so such an entry, if a dead
worker had applied it, would be applied twice. ``max_age`` stays a margin below that window
(clock skew between gateways and workers, time spent pending before the claim).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog

from gateway.clock import Clock
from gateway.detection.batch import Sighting
from gateway.detection.state import APPLIED_HORIZON
from gateway.sightings.codec import SightingCodec, SightingError
from gateway.sightings.metrics import DetectMetrics
from gateway.sightings.source import Entry, SightingSource

log = structlog.get_logger("gateway.detect")
Apply = Callable[[Sequence[tuple[str, Sighting]]], Awaitable[object]]
# a claimed entry older than this is not applied: 60 s inside the window of remembered ids
MAX_CLAIM_AGE = APPLIED_HORIZON - 60.0


class DetectWorker:
    def __init__(
        self,
        source: SightingSource,
        apply: Apply,
        metrics: DetectMetrics,
        clock: Clock,
        *,
        claim_interval: float = 10.0,
        idle_wait: float = 1.0,
        linger: float = 0.0,
        max_age: float = MAX_CLAIM_AGE,
    ) -> None:
        """``linger``: the least time between the starts of two reads (see the module);
        ``idle_wait``: without linger, the longest wait for a source that found nothing
        (the in-process stream wakes the worker earlier), and the wait after a failed read;
        ``max_age``: claimed entries older than this are not applied."""
        self.source = source
        self._apply = apply
        self._metrics = metrics
        self._clock = clock
        self._codec = SightingCodec()
        self._claim_interval = claim_interval
        self._idle_wait = idle_wait
        self._linger = linger
        self._max_age = max_age
        self._next_claim = 0.0
        self._hurry = asyncio.Event()
        self._idle_reads = 0  # reads that found nothing: drain() waits for the next one
        self._idle = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.applied = 0

    def start(self) -> None:
        """Run the loop as a task of the running event loop (in-process worker)."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.get_running_loop().create_task(self.run(self._stop))

    async def stop(self) -> None:
        """End the loop after the batch in hand (applied and acknowledged)."""
        if self._task is None:
            return
        self._stop.set()
        self._hurry.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():  # the group on every shard; Redis may not answer yet
            try:
                await self.source.start()
                break
            except Exception as exc:
                log.warning("detect_start_failed", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._idle_wait)
        loop = asyncio.get_running_loop()
        failures = 0
        while not stop.is_set():
            began = loop.time()
            try:
                found = await self.step()
                failures = 0
            except Exception as exc:  # Redis down: keep trying, never exit on a store error
                if failures % 100 == 0:  # the first of a run of failures, then every 100th
                    log.warning("detect_step_failed", error=type(exc).__name__, again=failures)
                failures += 1
                await self._wait(stop, hurry=False)  # never a busy loop on a dead store
                continue
            if stop.is_set() or self.source.more():
                continue  # a backlog: read on at once
            if self._linger > 0:
                await self._pause(stop, began + self._linger - loop.time())
            elif not found:
                await self._wait(stop, hurry=True)

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Up to ``seconds`` (at once when someone drains or stops)."""
        if seconds <= 0 or self._hurry.is_set() or stop.is_set():
            await asyncio.sleep(0)  # let the others run, even when behind
            return
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._hurry.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def step(self) -> bool:
        """One read (and a claim when due) and its batches; False when nothing was there."""
        worked = False
        now = self._clock.now()
        if now >= self._next_claim:
            self._next_claim = now + self._claim_interval
            claimed = await self.source.claim()
            if claimed:
                await self._handle(claimed, claimed=True)
                worked = True
        entries = await self.source.read()
        if entries:
            await self._handle(entries)
            return True
        async with self._idle:
            self._idle_reads += 1
            self._idle.notify_all()
        return worked

    async def _wait(self, stop: asyncio.Event, *, hurry: bool) -> None:
        """Until something may have arrived; at once when someone drains (``hurry``: never
        after a failed step, which waits its poll interval: no busy loop on a dead store)."""
        if hurry and self._hurry.is_set():
            await asyncio.sleep(0)  # look again at once, after the others ran
            return
        waits: list[asyncio.Future[object]] = [
            asyncio.ensure_future(self.source.wait(self._idle_wait))
        ]
        waits.append(asyncio.ensure_future(stop.wait()))
        if hurry:
            waits.append(asyncio.ensure_future(self._hurry.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def drain(self) -> None:
        """Wait until a read finds nothing left, after this call (tests, shutdown)."""
        if self.source.settled():  # the in-process stream knows without a read
            return
        async with self._idle:
            target = self._idle_reads + 1
            self._hurry.set()
            try:
                await self._idle.wait_for(lambda: self._idle_reads > target)
            finally:
                self._hurry.clear()

    async def _handle(self, entries: Sequence[Entry], *, claimed: bool = False) -> None:
        batch: list[tuple[str, Sighting]] = []
        oldest = self._clock.now() - self._max_age
        expired = 0
        for entry in entries:
            try:
                sighting = self._codec.decode(entry.data, entry.id)
            except SightingError as exc:
                self._metrics.undecodable.inc()
                log.warning("sighting_undecodable", id=entry.id, error=str(exc)[:200])
                continue
            if claimed and sighting.now < oldest:  # its id may be forgotten: never twice
                expired += 1
                continue
            batch.append((entry.id, sighting))
        if expired:
            self._metrics.expired.inc(expired)
            log.warning("claimed_sightings_expired", sightings=expired, max_age=self._max_age)
        if batch:
            try:
                await self._apply(batch)
            except Exception as exc:
                self._metrics.failed.inc(len(batch))
                log.warning("detect_batch_failed", sightings=len(batch), error=repr(exc)[:300])
                return  # left pending: claimed again after the idle time
        await self.source.ack(entries)
        if not batch:
            return
        now = self._clock.now()
        lag = self._metrics.lag
        for _, sighting in batch:
            lag.observe(max(0.0, now - sighting.now))
        self._metrics.sightings.inc(len(batch))
        self._metrics.batches.inc()
        self._metrics.batch_size.observe(len(batch))
        self.applied += len(batch)
