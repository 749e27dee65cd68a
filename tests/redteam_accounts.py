"""What the red-team round tests share: a round's accounts as ``scenarios.build`` adds them,
and the parts of a chat request they look at."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from loadtest.detection.scenarios import FULL, QUICK, BehaviourFn, build
from loadtest.detection.traffic import Account, Request, Role


def plan_accounts(
    populate: Callable[[Any, Callable[..., Any]], None], red: Any, net: int
) -> list[tuple[Account, BehaviourFn]]:
    """The accounts ``populate`` adds for ``red`` (names and seeds as ``scenarios.build``;
    addresses ``10.<net>.<i>.1``)."""
    out: list[tuple[Account, BehaviourFn]] = []

    def add(scenario: str, role: Role, fn: BehaviourFn, *, planned: int = 0) -> None:
        n = sum(1 for a, _ in out if a.scenario == scenario)
        name = f"{scenario}-{n:04d}"
        ip = f"10.{net}.{len(out)}.1"
        out.append((Account(name, scenario, role, len(out) + 1, ip, planned=planned), fn))

    populate(red, add)
    return out


def users(req: Request) -> list[str]:
    """The user turns of a chat request."""
    return [m["content"] for m in req.body["messages"] if m["role"] == "user"]


def system(req: Request) -> str | None:
    """The system prompt of a chat request, if it opens with one."""
    first = req.body["messages"][0]
    return str(first["content"]) if first["role"] == "system" else None


def check_builds(prefix: str, strategies: set[str], personas: set[str]) -> None:
    """The full and quick plans hold the round's scenarios (names unique, roles right, at
    least five accounts a strategy and three a look-alike in full; every strategy in quick,
    fewer accounts)."""
    everyone = build(FULL)
    names = [acc.name for acc, _ in everyone]
    assert len(names) == len(set(names))
    full = Counter(acc.scenario for acc, _ in everyone if acc.scenario.startswith(prefix))
    assert set(full) == strategies | personas
    assert all(full[s] >= 5 for s in strategies) and all(full[p] >= 3 for p in personas)
    roles = {acc.scenario: acc.role for acc, _ in everyone if acc.scenario.startswith(prefix)}
    assert all(roles[s] == "harvest" for s in strategies)
    assert all(roles[s] == "benign" for s in personas)
    quick = Counter(acc.scenario for acc, _ in build(QUICK) if acc.scenario.startswith(prefix))
    assert strategies <= set(quick) <= strategies | personas
    assert sum(quick.values()) < sum(full.values())
