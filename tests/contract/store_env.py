"""The value handed to every contract test: a store, its fake clock and key helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.clock import FakeClock
from gateway.limiter.store import BudgetStore
from gateway.model import BudgetSpec
from gateway.redis.keys import KeyBuilder

CLUSTER = "c1"
ACCOUNT = "a1"


@dataclass
class StoreEnv:
    kind: str
    store: BudgetStore
    clock: FakeClock
    keys: KeyBuilder
    _n: list[int] = field(default_factory=lambda: [0])

    def spec(self, algorithm: str, limit: int, window: float, rate: float = 0.0,
             *, scope: str = "account", **extra: Any) -> BudgetSpec:  # fmt: skip
        """A budget with a fresh key; ``scope`` picks the hash tag (account/cluster/global)."""
        self._n[0] += 1
        name = f"{algorithm}{self._n[0]}"
        if scope == "global":
            key = self.keys.global_budget("model-x", name)
        elif scope == "cluster":
            key = self.keys.cluster_budget(CLUSTER, name)
        else:
            key = self.keys.account_budget(CLUSTER, ACCOUNT, name)
        unit = "concurrency" if algorithm == "concurrency" else "requests"
        if algorithm == "novelty":
            unit = "diversity"
        return BudgetSpec(
            name=name, scope=scope, unit=unit, algorithm=algorithm, key=key,  # type: ignore[arg-type]
            limit=limit, window=window, rate=rate, **extra,
        )  # fmt: skip

    @property
    def level_key(self) -> str:
        return self.keys.account_level(CLUSTER, ACCOUNT)

    @property
    def cluster_level_key(self) -> str:
        return self.keys.cluster_level(CLUSTER)

    @property
    def clearance_key(self) -> str:
        return self.keys.account_clearance(CLUSTER, ACCOUNT)
