"""The decide stage: every budget, the diversity novelty and the detection level, in ONE
store call; then the graduated response (refuse, challenge, block, degrade) or go on.

Shadow budgets and shadow detectors are evaluated and counted as "would refuse", never
enforced; the headers show only enforced budgets. Global shadow (``GATEWAY_SHADOW``) makes
every budget a shadow budget and also counts, without acting on them, what detection levels
and operators' pins would do (challenge, block, degrade) and a store that fails closed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from gateway.apis import Api
from gateway.challenges.gate import ChallengeGate
from gateway.errors import GatewayError
from gateway.http.refusals import refusal_error
from gateway.limiter.store import BudgetStore
from gateway.model import AcquireRequest, AcquireResult, Decision, Level
from gateway.observability.metrics import Metrics
from gateway.policy.loader import LoadedPolicy
from gateway.proxy.context import RequestContext
from gateway.proxy.planner import Planner
from gateway.proxy.settle import InFlightLeases
from gateway.store_errors import StoreUnavailable

DEGRADED_HEADER = "x-gateway-degraded"
# what global shadow counts besides budgets (gateway_shadow_would_refuse_total{budget=...})
LEVEL_CHALLENGE = "level:challenge"
LEVEL_BLOCK = "level:block"
DEGRADE = "level:degrade"
STORE_UNAVAILABLE = "store:unavailable"


# the degrade level's rewrite of a body sent to an API (gateway.detection.degrade)
Degrader = Callable[[dict[str, Any], Any, Api], tuple[dict[str, Any], list[str]]]


class DecideStage:
    name = "decide"

    def __init__(
        self,
        *,
        policy: Callable[[], LoadedPolicy],
        planner: Planner,
        store: BudgetStore,
        challenges: ChallengeGate,
        degrade: Degrader,
        metrics: Metrics,
        leases: InFlightLeases,
        shadow: bool = False,
    ) -> None:
        """``shadow``: global shadow (``GATEWAY_SHADOW``): every refusal, level and degrade
        is computed, logged and counted; none is made."""
        self._shadow = shadow
        self._policy = policy
        self._planner = planner
        self._store = store
        self._challenges = challenges
        self._degrade = degrade
        self._metrics = metrics
        self._leases = leases

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        loaded = self._policy()
        plan = self._planner.plan(loaded, ctx)
        ctx.charges = plan.charges
        ctx.token_reservations = plan.token_reservations
        ctx.concurrency = plan.concurrency
        tier = loaded.compiled.tier(ctx.tier)
        detection, enforce_levels = tier.detection, tier.enforce_levels
        proof = request.headers.get("Gateway-PoW")
        if proof:
            await self._challenges.redeem(proof, request, ctx)
        acquire = AcquireRequest(
            request_id=ctx.request_id,
            charges=plan.charges,
            level_keys=plan.level_keys,
            clearance_keys=plan.clearance_keys,
            throttle_factor=detection.throttle_factor if enforce_levels else 1.0,
        )
        try:
            result, would_refuse = await self._acquire(acquire)
        except StoreUnavailable:
            ctx.decision = Decision(
                action="unavailable",
                reason="store unavailable, fail closed",
                policy_version=loaded.version,
            )
            if not self._shadow:
                raise refusal_error(ctx.decision) from None
            # global shadow: nothing was acquired (nothing to settle) and the request passes
            result, would_refuse = AcquireResult(allowed=False, states=()), (STORE_UNAVAILABLE,)
        ctx.acquired = result.allowed
        if result.allowed:
            self._leases.add(ctx.request_id, plan.concurrency)
        degradable = ctx.payload if result.level >= Level.DEGRADE else None
        if self._shadow and degradable is not None:  # counted; the body stays as sent
            changes = self._degrade(degradable, detection.degrade, ctx.api)[1]
            would_refuse += (DEGRADE,) if changes else ()
        decision = self._decision(result, loaded, would_refuse)
        ctx.decision = decision
        for name in decision.shadow_refusals:
            self._metrics.shadow_refusals.labels(name).inc()
        if decision.fallback:
            self._metrics.store_fallback.inc()
        if not decision.allowed:
            raise await self._refusal(decision, request, ctx, detection)
        if degradable is not None and not self._shadow:
            self._apply_degrade(ctx, detection.degrade)
        self._ask_for_usage(ctx)
        if ctx.body_changed and ctx.payload is not None:
            ctx.body = json.dumps(ctx.payload, separators=(",", ":")).encode()
        return None

    async def _acquire(self, acquire: AcquireRequest) -> tuple[AcquireResult, tuple[str, ...]]:
        """The store's answer, and the level refusals global shadow did not make.

        Under global shadow every budget is a shadow budget, so only a detection level (or an
        operator's pin) refuses in the store. That answer committed nothing; the same budgets
        are then acquired without the level keys, and the level is reported as it was read."""
        result = await self._store.acquire(acquire)
        if result.allowed or not self._shadow or not acquire.level_keys:
            return result, ()
        level = LEVEL_BLOCK if result.level >= Level.BLOCK else LEVEL_CHALLENGE
        admitted = await self._store.acquire(replace(acquire, level_keys=()))
        return replace(admitted, level=result.level, cleared=result.cleared), (level,)

    def _decision(
        self, result: AcquireResult, loaded: LoadedPolicy, would_refuse: tuple[str, ...]
    ) -> Decision:
        shadow = would_refuse + tuple(
            s.budget.name for s in result.states if not s.allowed and s.budget.mode == "shadow"
        )
        if result.allowed or self._shadow:
            return Decision(
                action="allow",
                states=result.states,
                level=result.level,
                reason="admitted",
                shadow_refusals=shadow,
                fallback=result.fallback,
                policy_version=loaded.version,
            )
        if result.level >= Level.BLOCK:
            return Decision(
                action="block",
                states=result.states,
                level=result.level,
                reason="level block",
                policy_version=loaded.version,
            )
        refused = next(
            (s for s in result.states if not s.allowed and s.budget.mode == "enforce"), None
        )
        if refused is None and result.level >= Level.CHALLENGE and not result.cleared:
            return Decision(
                action="challenge",
                states=result.states,
                level=result.level,
                reason="level challenge without clearance",
                policy_version=loaded.version,
            )
        reason = f"budget {refused.budget.name} exhausted" if refused else "refused"
        return Decision(
            action="refuse",
            states=result.states,
            refused_by=refused,
            level=result.level,
            reason=reason,
            shadow_refusals=shadow,
            fallback=result.fallback,
            policy_version=loaded.version,
        )

    async def _refusal(
        self, decision: Decision, request: web.Request, ctx: RequestContext, detection: Any
    ) -> GatewayError:
        if decision.action == "challenge":
            return self._challenges.challenge(request, ctx, detection)
        if decision.action == "block":
            self._metrics.refusals.labels("account", "all", "block").inc()
            return await self._challenges.blocked(ctx, detection)
        state = decision.refused_by
        if state is not None:
            self._metrics.refusals.labels(
                state.budget.scope, state.budget.unit, state.budget.algorithm
            ).inc()
        return refusal_error(decision)

    def _apply_degrade(self, ctx: RequestContext, settings: Any) -> None:
        assert ctx.payload is not None
        payload, changes = self._degrade(ctx.payload, settings, ctx.api)
        if changes:
            ctx.payload = payload
            ctx.body_changed = True
            ctx.degraded = tuple(changes)
            ctx.extra_headers[DEGRADED_HEADER] = ",".join(changes)
            self._metrics.degraded.inc()

    @staticmethod
    def _ask_for_usage(ctx: RequestContext) -> None:
        """Streams of an API whose usage comes in a chunk asked for (Chat Completions,
        Completions): ask the upstream for it (stripped again if not asked for). The Responses
        API always sends its usage in the terminal event: nothing to ask."""
        features = ctx.features
        if (
            features is None
            or not features.stream
            or features.include_usage
            or not ctx.token_reservations
            or ctx.payload is None
            or not ctx.api.usage_chunk
        ):
            return
        options = ctx.payload.get("stream_options")
        merged = dict(options) if isinstance(options, dict) else {}
        merged["include_usage"] = True
        ctx.payload["stream_options"] = merged
        ctx.injected_usage = True
        ctx.body_changed = True
