"""Records who was seen, after the response, wrapped around the pipeline's finalizer.

Per request: one dict lookup. A write (in the background) happens only for an account this
process has not written for ``refresh`` seconds, or whose tier changed, so the record's
``last_seen`` is accurate to about ``refresh`` seconds.
"""

from __future__ import annotations

from gateway.accounts.seen import SeenStore
from gateway.background.tasks import Background
from gateway.clock import Clock
from gateway.memo import BoundedMemo
from gateway.proxy.context import RequestContext
from gateway.proxy.pipeline import Finalizer

REFRESH = 60.0  # seconds between two writes of one account by one process
_REMEMBER = 100_000  # accounts remembered by this process before it starts over


class SeenRecorder:
    """A :class:`~gateway.proxy.pipeline.Finalizer` that runs ``inner``, then notes the
    authenticated account (refused requests included: the account was seen)."""

    def __init__(
        self,
        inner: Finalizer,
        store: SeenStore,
        clock: Clock,
        background: Background,
        *,
        refresh: float = REFRESH,
    ) -> None:
        self._inner = inner
        self._store = store
        self._clock = clock
        self._background = background
        self._refresh = refresh
        self._written: BoundedMemo[str, tuple[str, float]] = BoundedMemo(_REMEMBER)

    def finish(self, ctx: RequestContext) -> None:
        try:
            self._inner.finish(ctx)
        finally:
            self.note(ctx.account, ctx.tier)

    def note(self, account: str, tier: str) -> None:
        if not account or not tier:
            return  # not authenticated (or refused before the tier was known)
        now = self._clock.now()
        last = self._written.get(account)
        if last is not None and last[0] == tier and now - last[1] < self._refresh:
            return
        self._written.put(account, (tier, now))
        self._background.spawn(self._store.touch(account, tier, now), "seen")
