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


class Planner:
    def __init__(self, keys: KeyBuilder, *, shadow: bool) -> None:
        self._keys = keys
        self._shadow = shadow
        self._cache: OrderedDict[tuple[str, str, str, str, int], tuple[BudgetTemplate, ...]] = (
            OrderedDict()
        )

    def templates(
        self, loaded: LoadedPolicy, tier: str, model: str, route: str, cluster_size: int
    ) -> tuple[BudgetTemplate, ...]:
        key = (loaded.version, tier, model, route, cluster_size)
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

    def plan(self, loaded: LoadedPolicy, ctx: RequestContext) -> Plan:
        features = ctx.features
        model = features.model if features else ""
        templates = self.templates(loaded, ctx.tier, model, ctx.path, ctx.cluster_size)
        prompt_tokens = ctx.fingerprint.est_tokens if ctx.fingerprint else 0
        completion = self.completion_reservation(loaded, ctx)
        charges: list[Charge] = []
        tokens: list[tuple[BudgetSpec, int]] = []
        slots: list[BudgetSpec] = []
        cell = ctx.fingerprint.cell if ctx.fingerprint else None
        for template in templates:
            spec = self.bind(template, ctx)
            if spec.unit == "tokens":
                cost = _token_cost(spec.count, prompt_tokens, completion)
                tokens.append((spec, cost))
                charges.append(Charge(spec, cost))
            elif spec.algorithm == "novelty":
                if cell is None:
                    continue  # nothing to measure (no prompt): not a topic
                charges.append(Charge(spec, 1, cell))
            else:
                if spec.algorithm == "concurrency":
                    slots.append(spec)
                charges.append(Charge(spec, 1))
        return Plan(tuple(charges), tuple(tokens), tuple(slots))

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
