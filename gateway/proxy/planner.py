"""Turn the policy's applicable budgets into this request's charges.

Resolution (which budgets apply) is pure and remembered by the compiled policy per tier,
model, route and cluster size; binding attaches the store keys of this account and cluster
(remembered per account, also in the compiled policy: a reload drops both); costs come
from the request: 1 request, the token reservation (estimated prompt + max_tokens), one
concurrency slot, one semantic cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.budgets.registry import KINDS
from gateway.model import BudgetSpec, Charge
from gateway.policy.compiled import CompiledPolicy
from gateway.policy.loader import LoadedPolicy
from gateway.policy.resolve import BudgetTemplate
from gateway.proxy.context import RequestContext
from gateway.redis.keys import KeyBuilder


@dataclass(frozen=True, slots=True)
class Plan:
    charges: tuple[Charge, ...]
    token_reservations: tuple[tuple[BudgetSpec, int], ...]
    concurrency: tuple[BudgetSpec, ...]
    level_keys: tuple[str, ...] = ()  # see BoundPlan
    clearance_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BoundPlan:
    """A request's budgets with their store keys, before costs: the same for every request
    of an account, model and route in a policy version. ``fixed`` holds the charge of each
    budget whose cost never varies (one request, one slot), None where it does (tokens, a
    semantic cell). ``level_keys`` (empty unless the tier enforces detection levels) and
    ``clearance_keys`` are the account's detection level and challenge clearance keys."""

    specs: tuple[BudgetSpec, ...]
    fixed: tuple[Charge | None, ...]
    concurrency: tuple[BudgetSpec, ...]
    level_keys: tuple[str, ...] = ()
    clearance_keys: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        specs: tuple[BudgetSpec, ...],
        level_keys: tuple[str, ...] = (),
        clearance_keys: tuple[str, ...] = (),
    ) -> BoundPlan:
        fixed = tuple(KINDS[s.algorithm].fixed_charge(s) for s in specs)
        slots = tuple(s for s in specs if KINDS[s.algorithm].holds_slots)
        return cls(specs, fixed, slots, level_keys, clearance_keys)


class Planner:
    def __init__(self, keys: KeyBuilder, *, shadow: bool) -> None:
        self._keys = keys
        self._shadow = shadow

    def templates(
        self,
        loaded: LoadedPolicy,
        tier: str,
        model: str,
        route: str,
        cluster_size: int,
        soft: bool = False,
    ) -> tuple[BudgetTemplate, ...]:
        return loaded.compiled.templates(
            tier, model, route, cluster_size, soft=soft, shadow=self._shadow
        )

    def bind(self, template: BudgetTemplate, *, cluster_id: str, account: str) -> BudgetSpec:
        key = template.store_key(self._keys, cluster_id=cluster_id, account_id=account)
        return template.bind(key)

    def bound(self, loaded: LoadedPolicy, ctx: RequestContext, model: str) -> BoundPlan:
        """The account's bound plan, built once per policy version, account, model and
        route (the compiled policy remembers it)."""
        compiled = loaded.compiled
        key = ("bound", self._keys.prefix, self._shadow, ctx.tier, model, ctx.path,
               ctx.cluster_size, ctx.cluster_id, ctx.account, ctx.cluster_soft)  # fmt: skip
        return compiled.memo(key, lambda: self._bind_all(compiled, ctx, model))

    def _bind_all(self, compiled: CompiledPolicy, ctx: RequestContext, model: str) -> BoundPlan:
        cluster, account = ctx.cluster_id, ctx.account
        templates = compiled.templates(
            ctx.tier, model, ctx.path, ctx.cluster_size, soft=ctx.cluster_soft, shadow=self._shadow
        )
        specs = tuple(self.bind(t, cluster_id=cluster, account=account) for t in templates)
        keys = self._keys
        levels = (
            (keys.account_level(cluster, account), keys.cluster_level(cluster))
            if compiled.tier(ctx.tier).enforce_levels
            else ()
        )
        return BoundPlan.of(specs, levels, (keys.account_clearance(cluster, account),))

    def plan(self, loaded: LoadedPolicy, ctx: RequestContext) -> Plan:
        features = ctx.features
        bound = self.bound(loaded, ctx, features.model if features else "")
        prompt = ctx.prompt
        prompt_tokens = prompt.est_tokens if prompt else 0
        completion = self.completion_reservation(loaded, ctx)
        cell = prompt.cell if prompt else None
        charges: list[Charge] = []
        tokens: list[tuple[BudgetSpec, int]] = []
        for spec, fixed in zip(bound.specs, bound.fixed, strict=True):
            if fixed is not None:
                charges.append(fixed)
                continue
            charge = KINDS[spec.algorithm].charge(spec, prompt_tokens, completion, cell)
            if charge is None:  # novelty without a prompt: no topic to count
                continue
            if spec.unit == "tokens":
                tokens.append((spec, charge.cost))
            charges.append(charge)
        return Plan(
            tuple(charges), tuple(tokens), bound.concurrency, bound.level_keys, bound.clearance_keys
        )

    @staticmethod
    def completion_reservation(loaded: LoadedPolicy, ctx: RequestContext) -> int:
        features = ctx.features
        if features is None or features.endpoint == "embeddings":
            return 0
        asked = features.max_tokens
        per_choice = asked if asked is not None else loaded.policy.defaults.max_tokens
        return per_choice * max(1, features.n)
