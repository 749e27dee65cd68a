"""Turn the policy's applicable budgets into this request's charges.

Resolution (which budgets apply) is pure and cached per policy version, tier, model, route
and cluster size; binding attaches the Redis keys of this account and cluster; costs come
from the request: 1 request, the token reservation (estimated prompt + max_tokens), one
concurrency slot, one semantic cell.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from gateway.limiter.keys import KeyBuilder
from gateway.model import BudgetSpec, Charge
from gateway.policy.loader import LoadedPolicy
from gateway.policy.resolve import BudgetTemplate, resolve
from gateway.proxy.context import RequestContext

_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Plan:
    charges: tuple[Charge, ...]
    token_reservations: tuple[tuple[BudgetSpec, int], ...]
    concurrency: tuple[BudgetSpec, ...]


@dataclass(frozen=True, slots=True)
class BoundPlan:
    """A request's budgets with their store keys, before costs: the same for every request
    of an account, model and route in a policy version. ``fixed`` holds the charge of each
    budget whose cost never varies (one request, one slot), None where it does (tokens, a
    semantic cell)."""

    specs: tuple[BudgetSpec, ...]
    fixed: tuple[Charge | None, ...]
    concurrency: tuple[BudgetSpec, ...]

    @classmethod
    def of(cls, specs: tuple[BudgetSpec, ...]) -> BoundPlan:
        fixed = tuple(
            None if s.unit == "tokens" or s.algorithm == "novelty" else Charge(s, 1) for s in specs
        )
        slots = tuple(s for s in specs if s.algorithm == "concurrency")
        return cls(specs, fixed, slots)


class Planner:
    def __init__(self, keys: KeyBuilder, *, shadow: bool) -> None:
        self._keys = keys
        self._shadow = shadow
        self._cache: OrderedDict[
            tuple[str, str, str, str, int, bool], tuple[BudgetTemplate, ...]
        ] = OrderedDict()

    def templates(
        self,
        loaded: LoadedPolicy,
        tier: str,
        model: str,
        route: str,
        cluster_size: int,
        soft: bool = False,
    ) -> tuple[BudgetTemplate, ...]:
        key = (loaded.version, tier, model, route, cluster_size, soft)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        templates = tuple(
            resolve(
                loaded.policy,
                tier=tier,
                model=model,
                route=route,
                cluster_size=cluster_size,
                soft_cluster=soft,
                shadow=self._shadow,
            )
        )
        self._cache[key] = templates
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return templates

    def bind(self, template: BudgetTemplate, ctx: RequestContext) -> BudgetSpec:
        key = template.store_key(self._keys, cluster_id=ctx.cluster_id, account_id=ctx.account)
        return template.bind(key)

    def bound(self, loaded: LoadedPolicy, ctx: RequestContext, model: str) -> BoundPlan:
        templates = self.templates(
            loaded, ctx.tier, model, ctx.path, ctx.cluster_size, ctx.cluster_soft
        )
        return BoundPlan.of(tuple(self.bind(t, ctx) for t in templates))

    def plan(self, loaded: LoadedPolicy, ctx: RequestContext) -> Plan:
        features = ctx.features
        bound = self.bound(loaded, ctx, features.model if features else "")
        fingerprint = ctx.fingerprint
        prompt_tokens = fingerprint.est_tokens if fingerprint else 0
        completion = self.completion_reservation(loaded, ctx)
        cell = fingerprint.cell if fingerprint else None
        charges: list[Charge] = []
        tokens: list[tuple[BudgetSpec, int]] = []
        for spec, fixed in zip(bound.specs, bound.fixed, strict=True):
            if fixed is not None:
                charges.append(fixed)
            elif spec.unit == "tokens":
                cost = _token_cost(spec.count, prompt_tokens, completion)
                tokens.append((spec, cost))
                charges.append(Charge(spec, cost))
            elif cell is not None:  # novelty; without a prompt there is no topic to count
                charges.append(Charge(spec, 1, cell))
        return Plan(tuple(charges), tuple(tokens), bound.concurrency)

    @staticmethod
    def completion_reservation(loaded: LoadedPolicy, ctx: RequestContext) -> int:
        features = ctx.features
        if features is None or features.endpoint == "embeddings":
            return 0
        asked = features.max_tokens
        per_choice = asked if asked is not None else loaded.policy.defaults.max_tokens
        return per_choice * max(1, features.n)


def _token_cost(count: str, prompt: int, completion: int) -> int:
    if count == "input":
        return prompt
    if count == "output":
        return completion
    return prompt + completion
