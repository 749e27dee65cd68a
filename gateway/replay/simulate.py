"""Replay logged requests against a candidate policy, in simulated time, on the memory store.

Each logged request is planned under the candidate policy (its tier, model, route, cluster
and token counts as logged), checked and charged at its logged arrival time on a fresh
:class:`~gateway.limiter.memory.MemoryBudgetStore` driven by a :class:`~gateway.clock.FakeClock`,
and settled (real token usage, slot released) when the log says it ended.

What is replayed is budgets: request, token, quota, concurrency and diversity budgets. Not
replayed: detection (a request the log shows challenged or blocked stays so, uncharged) and
linking (each request keeps the cluster it was logged with). A request the candidate admits
but the log shows refused has no usage on record: it is charged its reservation and holds
its slot for no time. Traffic is replayed as it arrived: clients that would have behaved
otherwise under the candidate (fewer retries after a 429, say) are not modelled.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.apis import api_of_kind
from gateway.budgets.registry import KINDS
from gateway.clock import FakeClock
from gateway.limiter.memory import MemoryBudgetStore
from gateway.model import AcquireRequest, BudgetPrint, Identity, RequestFeatures, Settlement
from gateway.policy.loader import LoadedPolicy
from gateway.proxy.context import RequestContext
from gateway.proxy.planner import Planner
from gateway.proxy.settle import Settler
from gateway.proxy.usage import Usage
from gateway.redis.keys import KeyBuilder
from gateway.replay.log import LoggedRequest

DETECTION = "detection"  # outcome of a request the log shows challenged or blocked


@dataclass(frozen=True, slots=True)
class Replayed:
    request: LoggedRequest
    tier: str  # the tier under the candidate policy
    action: str  # allow, refuse or detection
    refused_by: str | None = None
    shadow: tuple[str, ...] = ()  # candidate shadow budgets that would have refused


def _context(req: LoggedRequest, tier: str, index: int) -> RequestContext:
    ctx = RequestContext(request_id=req.request_id or f"replay-{index}", started=0.0, now=req.at)
    ctx.identity = Identity(account_id=req.account, tier=tier)
    ctx.tier, ctx.path, ctx.api = tier, req.path, api_of_kind(req.endpoint)
    ctx.cluster_id, ctx.cluster_size = req.cluster, req.cluster_size
    ctx.features = RequestFeatures(
        endpoint=req.endpoint, model=req.model, max_tokens=req.max_tokens, n=req.n
    )
    ctx.prompt = BudgetPrint(est_tokens=req.prompt_tokens, cell=req.cell)
    return ctx


class Replay:
    def __init__(self, loaded: LoadedPolicy) -> None:
        self._loaded = loaded
        self._clock = FakeClock(0.0)
        self._store = MemoryBudgetStore(self._clock)
        self._planner = Planner(KeyBuilder("replay"), shadow=False)
        self._due: list[tuple[float, int, Settlement]] = []

    async def run(self, requests: Sequence[LoggedRequest]) -> list[Replayed]:
        """Outcomes of the decided requests (those that reached a budget decision)."""
        out: list[Replayed] = []
        for index, req in enumerate(requests):
            await self._settle_until(req.at)
            if req.decided:
                out.append(await self._replay(req, index))
        await self._settle_until(float("inf"))
        return out

    def _tier(self, logged: str) -> str:
        policy = self._loaded.policy
        return logged if logged in policy.tiers else policy.defaults.tier

    async def _replay(self, req: LoggedRequest, index: int) -> Replayed:
        tier = self._tier(req.tier)
        if req.decision in ("challenge", "block"):
            return Replayed(req, tier, DETECTION)
        ctx = _context(req, tier, index)
        plan = self._planner.plan(self._loaded, ctx)
        charges = plan.charges
        if req.cell is None:  # logged without a fingerprint: no topic to count
            charges = tuple(c for c in charges if not KINDS[c.budget.algorithm].per_prompt)
        result = await self._store.acquire(AcquireRequest(ctx.request_id, charges))
        shadow = tuple(
            s.budget.name for s in result.states if not s.allowed and s.budget.mode == "shadow"
        )
        if not result.allowed:
            refused = next(
                (s for s in result.states if not s.allowed and s.budget.mode == "enforce"), None
            )
            name = refused.budget.name if refused else None
            return Replayed(req, tier, "refuse", name, shadow)
        if req.usage_in is not None and req.usage_out is not None:
            ctx.token_reservations, ctx.concurrency = plan.token_reservations, plan.concurrency
            ctx.usage = Usage(req.usage_in, req.usage_out)
            settlement = Settler.settlement(ctx)
        else:  # no usage on record: it costs its reservation
            settlement = Settlement(ctx.request_id, (), plan.concurrency)
        if settlement.adjustments or settlement.releases:
            heapq.heappush(self._due, (req.at + req.duration, index, settlement))
        return Replayed(req, tier, "allow", None, shadow)

    async def _settle_until(self, when: float) -> None:
        while self._due and self._due[0][0] <= when:
            at, _, settlement = heapq.heappop(self._due)
            self._clock.set(max(self._clock.now(), at))
            await self._store.settle(settlement)
        if when != float("inf"):
            self._clock.set(max(self._clock.now(), when))
