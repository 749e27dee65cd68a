"""The decide stage: every budget, the diversity novelty and the detection level, in ONE
store call; then the graduated response (refuse, challenge, block, degrade) or go on.

Shadow budgets and shadow detectors are evaluated and counted as "would refuse", never
enforced; the headers show only enforced budgets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway.errors import GatewayError
from gateway.http.refusals import refusal_error
from gateway.limiter.keys import KeyBuilder
from gateway.limiter.store import BudgetStore, StoreUnavailable
from gateway.model import AcquireRequest, AcquireResult, Decision, Level
from gateway.observability.metrics import Metrics
from gateway.policy.loader import LoadedPolicy
from gateway.proxy.challenges import ChallengeGate
from gateway.proxy.context import RequestContext
from gateway.proxy.planner import BoundPlan, Planner
from gateway.proxy.settle import InFlightLeases

DEGRADED_HEADER = "x-gateway-degraded"


Degrader = Callable[[dict[str, Any], Any], tuple[dict[str, Any], list[str]]]


class CachingPlanner(Planner):
    """A planner that remembers each account's bound plan: resolving and binding build a
    store key per budget (string work), the same for every request of an account, model
    and route in a policy version."""

    def __init__(self, keys: KeyBuilder, *, shadow: bool, size: int = 65536) -> None:
        super().__init__(keys, shadow=shadow)
        self._size = size
        self._plans: dict[tuple[str, str, str, str, int, str, str, bool], BoundPlan] = {}

    def bound(self, loaded: LoadedPolicy, ctx: RequestContext, model: str) -> BoundPlan:
        key = (loaded.version, ctx.tier, model, ctx.path, ctx.cluster_size, ctx.cluster_id,
               ctx.account, ctx.cluster_soft)  # fmt: skip
        found = self._plans.get(key)
        if found is None:
            found = super().bound(loaded, ctx, model)
            if len(self._plans) >= self._size:
                self._plans.clear()
            self._plans[key] = found
        return found


class DecideStage:
    name = "decide"

    def __init__(
        self,
        *,
        policy: Callable[[], LoadedPolicy],
        planner: Planner,
        store: BudgetStore,
        keys: KeyBuilder,
        challenges: ChallengeGate,
        degrade: Degrader,
        metrics: Metrics,
        leases: InFlightLeases,
    ) -> None:
        self._policy = policy
        self._planner = planner
        self._store = store
        self._keys = keys
        self._challenges = challenges
        self._degrade = degrade
        self._metrics = metrics
        self._leases = leases
        self._tier_detection: dict[tuple[str, str], Any] = {}
        self._key_cache: dict[tuple[str, str, bool], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        loaded = self._policy()
        plan = self._planner.plan(loaded, ctx)
        ctx.charges = plan.charges
        ctx.token_reservations = plan.token_reservations
        ctx.concurrency = plan.concurrency
        detection = self._detection_for(loaded, ctx.tier)
        enforce_levels = detection.enabled and detection.mode == "enforce"
        level_keys, clearance = self._level_keys(ctx.cluster_id, ctx.account, enforce_levels)
        proof = request.headers.get("Gateway-PoW")
        if proof:
            await self._challenges.redeem(proof, ctx)
        acquire = AcquireRequest(
            request_id=ctx.request_id,
            charges=plan.charges,
            level_keys=level_keys,
            clearance_keys=clearance,
            throttle_factor=detection.throttle_factor if enforce_levels else 1.0,
        )
        try:
            result = await self._store.acquire(acquire)
        except StoreUnavailable:
            ctx.decision = Decision(
                action="unavailable",
                reason="store unavailable, fail closed",
                policy_version=loaded.version,
            )
            raise refusal_error(ctx.decision) from None
        ctx.acquired = result.allowed
        if result.allowed:
            self._leases.add(ctx.request_id, plan.concurrency)
        decision = self._decision(result, loaded)
        ctx.decision = decision
        for name in decision.shadow_refusals:
            self._metrics.shadow_refusals.labels(name).inc()
        if decision.fallback:
            self._metrics.store_fallback.inc()
        if not decision.allowed:
            raise await self._refusal(decision, request, ctx, detection)
        if result.level >= Level.DEGRADE and ctx.payload is not None:
            self._apply_degrade(ctx, detection.degrade)
        self._ask_for_usage(ctx)
        if ctx.body_changed and ctx.payload is not None:
            ctx.body = json.dumps(ctx.payload, separators=(",", ":")).encode()
        return None

    def _decision(self, result: AcquireResult, loaded: LoadedPolicy) -> Decision:
        shadow = tuple(
            s.budget.name for s in result.states if not s.allowed and s.budget.mode == "shadow"
        )
        if result.allowed:
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

    def _detection_for(self, loaded: LoadedPolicy, tier: str) -> Any:
        """The tier's detection policy (overrides applied: a model copy), once per version."""
        key = (loaded.version, tier)
        found = self._tier_detection.get(key)
        if found is None:
            if len(self._tier_detection) >= 1024:
                self._tier_detection.clear()
            found = self._tier_detection[key] = loaded.policy.detection.for_tier(tier)
        return found

    def _level_keys(
        self, cluster: str, account: str, enforce: bool
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(level keys, clearance keys) of an account: string work remembered per account."""
        key = (cluster, account, enforce)
        found = self._key_cache.get(key)
        if found is None:
            keys = self._keys
            levels = (
                (keys.account_level(cluster, account), keys.cluster_level(cluster))
                if enforce
                else ()
            )
            found = (levels, (keys.account_clearance(cluster, account),))
            if len(self._key_cache) >= 65536:
                self._key_cache.clear()
            self._key_cache[key] = found
        return found

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
        payload, changes = self._degrade(ctx.payload, settings)
        if changes:
            ctx.payload = payload
            ctx.body_changed = True
            ctx.degraded = tuple(changes)
            ctx.extra_headers[DEGRADED_HEADER] = ",".join(changes)
            self._metrics.degraded.inc()

    @staticmethod
    def _ask_for_usage(ctx: RequestContext) -> None:
        """Streams: ask the upstream for the usage chunk (stripped again if not asked for)."""
        features = ctx.features
        if (
            features is None
            or not features.stream
            or features.include_usage
            or not ctx.token_reservations
            or ctx.payload is None
            or ctx.endpoint not in ("chat", "completions")
        ):
            return
        options = ctx.payload.get("stream_options")
        merged = dict(options) if isinstance(options, dict) else {}
        merged["include_usage"] = True
        ctx.payload["stream_options"] = merged
        ctx.injected_usage = True
        ctx.body_changed = True
