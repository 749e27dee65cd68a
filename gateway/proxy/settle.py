"""The settle stage: after the response, charge or refund the token difference, release
concurrency slots, and feed detection and account linking — all off the hot path.

The observers get each served request's whole fingerprint, computed by ``describe`` (see
:class:`gateway.proxy.inspect.DetectionPrints`) at the end of the event-loop tick, after the
response was written, for all of that tick's requests at once.

Settlements finished in the same event-loop tick go to the store as one batch, at the end
of the tick; on Redis they are queued on the shared connection at once, so the client's next
request (read from the network after that) finds them applied. Actual tokens come from the
upstream's ``usage`` (JSON body or the SSE usage chunk). A stream that ends without usage
(client disconnect, upstream without usage) is charged from what was streamed: the prompt
estimate plus the streamed characters. A request that never reached the upstream is
refunded its reservation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from gateway.background.tasks import Background
from gateway.fingerprints.chain import answer_ref
from gateway.limiter.store import BatchSettlement, BudgetStore
from gateway.model import BudgetSpec, Fingerprint, Identity, RequestFeatures, Settlement
from gateway.proxy.context import RequestContext
from gateway.proxy.usage import Usage, estimate_tokens_from_chars
from gateway.store_errors import ScriptMissing

log = structlog.get_logger("gateway.settle")


class Observer(Protocol):
    """Detection and linking: non-blocking submission of one served request."""

    def submit(
        self,
        identity: Identity,
        cluster_id: str,
        cluster_size: int,
        fingerprint: Fingerprint,
        features: RequestFeatures,
        now: float,
        *,
        stored: int = 0,
    ) -> object: ...


class InFlightLeases:
    """Concurrency slots held by this process, refreshed so long streams keep them."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[BudgetSpec, ...]] = {}

    def add(self, request_id: str, slots: tuple[BudgetSpec, ...]) -> None:
        if slots:
            self._held[request_id] = slots

    def remove(self, request_id: str) -> None:
        self._held.pop(request_id, None)

    def by_key(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for request_id, slots in self._held.items():
            for spec in slots:
                grouped.setdefault(spec.key, []).append(request_id)
        return grouped

    async def refresh_forever(self, store: BudgetStore, ttl: Callable[[], float]) -> None:
        while True:
            lease = ttl()
            await asyncio.sleep(max(1.0, lease / 3))
            grouped = self.by_key()
            if grouped:
                try:
                    await store.refresh_leases(grouped, lease)
                except Exception as exc:  # the store may be down; leases then expire safely
                    log.warning("lease_refresh_failed", error=repr(exc))


def actual_tokens(ctx: RequestContext) -> Usage:
    """What the request really cost, from usage or from what was streamed."""
    if ctx.usage is not None:
        return ctx.usage
    if ctx.upstream_status is None or ctx.upstream_status >= 400:
        return Usage(0, 0)  # never served: refund the reservation
    prompt = ctx.prompt.est_tokens if ctx.prompt else 0
    return Usage(prompt, estimate_tokens_from_chars(ctx.streamed_chars))


class Settler:
    def __init__(
        self,
        store: BudgetStore,
        background: Background,
        leases: InFlightLeases,
        observers: tuple[Observer, ...] = (),
        on_error: Callable[[], None] | None = None,
        batcher: BatchSettlement | None = None,
        describe: Callable[[RequestContext], Fingerprint | None] | None = None,
    ) -> None:
        """``batcher``: the store's batched settlement, when it has one (Redis);
        ``describe``: a served request's fingerprint for the observers (default: the
        context's own ``fingerprint``)."""
        self._store = store
        self._batcher = batcher
        self._background = background
        self._leases = leases
        self._observers = observers
        self._on_error = on_error
        self._pending: list[Settlement] = []
        self._describe = describe
        self._served: list[RequestContext] = []

    def finish(self, ctx: RequestContext) -> None:
        if ctx.acquired:
            self._leases.remove(ctx.request_id)
            settlement = self.settlement(ctx)
            if settlement.adjustments or settlement.releases:
                if not self._pending:  # the first of this tick: one call settles them all
                    asyncio.get_running_loop().call_soon(self._flush)
                self._pending.append(settlement)
        self._observe(ctx)

    def _flush(self) -> None:
        """End of the tick: hand this tick's settlements to the store. A store that can
        (Redis, connected) queues them at once, ahead of any budget check read from the
        network after this callback, so a client's next request finds its slot released;
        otherwise a background task settles them."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        queued = self._batcher.settle_soon(batch) if self._batcher is not None else None
        if queued is None:
            self._background.spawn(self._settle(batch), "settle")
            return
        queued.add_done_callback(lambda done: self._after(done, batch))
        self._background.track(queued, "settle", quiet=True)  # _after reports

    def _after(self, done: asyncio.Future[Any], batch: list[Settlement]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if isinstance(error, ScriptMissing):  # nothing ran: again, with the script's text
            self._background.spawn(self._settle(batch), "settle")
        elif error is not None:
            log.warning("settle_failed", settlements=len(batch), error=repr(error))
            self._count_failed(batch)

    @staticmethod
    def settlement(ctx: RequestContext) -> Settlement:
        usage = actual_tokens(ctx)
        adjustments = []
        for spec, reserved in ctx.token_reservations:
            delta = usage.count(spec.count) - reserved
            if delta:
                adjustments.append((spec, delta))
        return Settlement(ctx.request_id, tuple(adjustments), ctx.concurrency)

    async def _settle(self, batch: list[Settlement]) -> None:
        """Settle a batch in one store call."""
        try:
            if self._batcher is not None:
                await self._batcher.settle_many(batch)
            elif len(batch) == 1:
                await self._store.settle(batch[0])
            else:
                await asyncio.gather(*(self._store.settle(s) for s in batch))
        except Exception:
            self._count_failed(batch)
            raise

    def _count_failed(self, batch: list[Settlement]) -> None:
        if self._on_error:
            for _ in batch:
                self._on_error()

    def _observe(self, ctx: RequestContext) -> None:
        served = ctx.upstream_status is not None and ctx.upstream_status < 400
        if not served or ctx.identity is None or ctx.features is None or not self._observers:
            return
        if self._describe is None:
            self._submit(ctx, ctx.fingerprint)
            return
        if not self._served:  # the first of this tick: fingerprinted after the responses
            asyncio.get_running_loop().call_soon(self._describe_served)
        self._served.append(ctx)

    def _describe_served(self) -> None:
        served, self._served = self._served, []
        assert self._describe is not None
        for ctx in served:
            try:
                ctx.fingerprint = self._describe(ctx)
            except Exception as exc:  # a detection input lost, never a request
                log.warning("fingerprint_failed", error=type(exc).__name__)
                continue
            self._submit(ctx, ctx.fingerprint)

    def _submit(self, ctx: RequestContext, fingerprint: Fingerprint | None) -> None:
        if ctx.identity is None or fingerprint is None or ctx.features is None:
            return
        stored = answer_ref(ctx.payload or {}, ctx.answer_id) if ctx.api.stored else 0
        for observer in self._observers:
            observer.submit(
                ctx.identity,
                ctx.cluster_id,
                ctx.cluster_size,
                fingerprint,
                ctx.features,
                ctx.now,
                stored=stored,
            )
