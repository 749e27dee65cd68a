"""Redis stays in the store layer, and the store's capabilities are checked where the app
is composed: no module above the stores imports redis-py or hiredis, none asks a store for
an optional method by name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gateway.app import _levels
from gateway.clock import FakeClock
from gateway.detection.levels import LevelStore
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.limiter.store import BatchSettlement
from gateway.redis.client import redis_client

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
STORE_LAYER = {
    "limiter/redis_store.py",
    "clusters/graph_redis.py",
    "clusters/observations_redis.py",
    "detection/redis_state.py",
    "detection/coactivity_redis.py",
    "detection/stacks_redis.py",
    "detection/newcomers_redis.py",
    "accounts/seen.py",
    "sightings/sink_redis.py",
    "sightings/source_redis.py",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_redis_package_and_the_stores_import_redis() -> None:
    offenders = []
    for path in sorted(GATEWAY.rglob("*.py")):
        relative = path.relative_to(GATEWAY).as_posix()
        if relative.startswith("redis/"):
            continue
        clients = _imports(path) & {"redis", "hiredis"}
        if clients and relative not in STORE_LAYER:
            offenders.append(f"{relative}: {sorted(clients)}")
    assert offenders == []


def test_no_module_asks_a_store_for_a_capability_by_name() -> None:
    asks = re.compile(r"getattr\([^)]*[\"'](settle_soon|settle_many|[gs]et_level|set_flag)[\"']")
    offenders = [
        path.relative_to(GATEWAY).as_posix()
        for path in sorted(GATEWAY.rglob("*.py"))
        if asks.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


async def test_capabilities_of_each_budget_store() -> None:
    memory = MemoryBudgetStore(FakeClock())
    client = redis_client("redis://127.0.0.1:1/0")  # never connects here
    redis_store = RedisBudgetStore(client, FakeClock())
    resilient = ResilientStore(redis_store, FakeClock(), lambda: "open", batcher=redis_store)
    try:
        assert not isinstance(memory, BatchSettlement)
        assert isinstance(redis_store, BatchSettlement)
        assert isinstance(resilient, BatchSettlement)
        for store in (memory, redis_store, resilient):
            assert isinstance(store, LevelStore)
            assert _levels(store) is store
    finally:
        await client.aclose()


def test_a_store_without_levels_is_refused_at_composition() -> None:
    class BudgetsOnly:
        async def acquire(self, request: object) -> object: ...

    with pytest.raises(TypeError, match="BudgetsOnly keeps no detection levels"):
        _levels(BudgetsOnly())  # type: ignore[arg-type]
