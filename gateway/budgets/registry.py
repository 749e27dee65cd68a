"""The budget kinds by algorithm name, in the order a policy section's templates are made
(requests, tokens, quotas, concurrency, diversity): like ``limits``' ``STRATEGIES`` table.
Adding a kind: its module here, its section in the Lua scripts, a test."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gateway.budgets.bucket import TokenBucket
from gateway.budgets.concurrency import Concurrency
from gateway.budgets.kind import BudgetKind
from gateway.budgets.novelty import Novelty
from gateway.budgets.window import WindowQuota
from gateway.model import Algorithm

KINDS: Mapping[Algorithm, BudgetKind] = MappingProxyType(
    {kind.algorithm: kind for kind in (TokenBucket(), WindowQuota(), Concurrency(), Novelty())}
)
