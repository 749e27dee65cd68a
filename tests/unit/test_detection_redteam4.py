"""Red-team round 4's kit scenarios: what each strategy and look-alike sends (no gateway)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loadtest.detection.context import Context
from loadtest.detection.evaluate import START
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam4 import RED4_FULL, RED4_QUICK, Red4Plan, populate4
from loadtest.detection.scenarios import QUICK, build
from loadtest.detection.traffic import Account, Behaviour, Outcome, Request

RED4 = {
    "red4_schema": "harvest",
    "red4_schema_sweep": "harvest",
    "red4_exemplar": "harvest",
    "red4_multilingual": "harvest",
    "red4_socratic": "harvest",
    "red4_agent_loop": "harvest",
    "red4_completions": "harvest",
    "red4_eval_tier": "harvest",
    "red4_json_extractor": "benign",
    "red4_native_tutor": "benign",
    "red4_coding_agent": "benign",
    "red4_few_shot_app": "benign",
    "red4_socratic_tutor": "benign",
    "red4_polyglot_fleet": "benign",
}


@pytest.fixture(scope="module")
def ctx() -> Context:
    pools = load_pools("reporting")
    return Context(pools=pools, start=START, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)


def sent(scenario: str, ctx: Context, limit: int = 200) -> tuple[Account, list[Request]]:
    """The first ``limit`` requests of the scenario's first account, every one answered 200."""
    acc, fn = next((a, f) for a, f in build(QUICK, only=frozenset({scenario})))
    behaviour: Behaviour = fn(acc, ctx)
    out: list[Request] = []
    try:
        _, request = next(behaviour)
        while len(out) < limit:
            out.append(request)
            _, request = behaviour.send(Outcome(200))
    except StopIteration:
        pass
    return acc, out


def test_quick_plan_has_every_scenario_with_its_role() -> None:
    roles = {a.scenario: a.role for a, _ in build(QUICK) if a.scenario.startswith("red4_")}
    assert roles == RED4


def test_populate_adds_nothing_for_an_empty_plan() -> None:
    added: list[Any] = []
    populate4(Red4Plan(), lambda *a, **k: added.append(a))
    assert added == []
    full: list[str] = []
    populate4(RED4_FULL, lambda scenario, *a, **k: full.append(scenario))
    assert full.count("red4_schema") == RED4_FULL.schemas
    assert full.count("red4_polyglot_fleet") == RED4_FULL.fleets


def test_schema_asks_carry_no_wording_and_no_max_tokens(ctx: Context) -> None:
    _, requests = sent("red4_schema", ctx)
    assert len(requests) == RED4_QUICK.tasks
    for r in requests:
        assert r.harvest and "max_tokens" not in r.body
        assert [m["role"] for m in r.body["messages"]] == ["user"]
        assert "response_format" in r.body or r.body["tool_choice"]["type"] == "function"


def test_exemplar_sends_earlier_tasks_with_worked_answers(ctx: Context) -> None:
    _, requests = sent("red4_exemplar", ctx)
    asked = [r.body["messages"][-1]["content"] for r in requests]
    later = requests[5].body["messages"]
    assert [m["role"] for m in later[:2]] == ["user", "assistant"]
    assert later[0]["content"] in asked[:5]
    assert "So the answer is" in later[1]["content"]


def test_socratic_counts_one_harvest_response_per_conversation(ctx: Context) -> None:
    _, requests = sent("red4_socratic", ctx)
    firsts = sum(1 for r in requests if len(r.body["messages"]) == 1)
    assert sum(r.harvest for r in requests) in (firsts, firsts - 1)
    assert all(len(r.body["messages"]) > 1 for r in requests if r.harvest)


def test_agent_loop_ends_on_tool_results(ctx: Context) -> None:
    _, requests = sent("red4_agent_loop", ctx)
    last_roles = {r.body["messages"][-1]["role"] for r in requests}
    assert last_roles == {"user", "tool"}
    assert all(r.body["tools"] for r in requests)


def test_completions_go_to_the_legacy_endpoint(ctx: Context) -> None:
    _, requests = sent("red4_completions", ctx)
    assert {r.path for r in requests} == {"/v1/completions"}
    assert all("<|" in r.body["prompt"] and "messages" not in r.body for r in requests)


def test_eval_tier_accounts_are_on_the_evaluation_tier() -> None:
    tiers = {a.tier for a, _ in build(QUICK, only=frozenset({"red4_eval_tier"}))}
    assert tiers == {"evaluation"}


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        ("red4_polyglot_fleet", lambda rs: len({r.headers["User-Agent"] for r in rs}) >= 6),
        (
            "red4_json_extractor",
            lambda rs: all("response_format" in r.body or "tools" in r.body for r in rs),
        ),
        ("red4_coding_agent", lambda rs: any(r.body["messages"][-1]["role"] == "tool" for r in rs)),
        ("red4_few_shot_app", lambda rs: len({str(r.body["messages"][:7]) for r in rs}) == 1),
    ],
)
def test_look_alikes_share_the_surface(
    scenario: str, check: Callable[[list[Request]], bool], ctx: Context
) -> None:
    acc, requests = sent(scenario, ctx)
    assert acc.role == "benign" and requests and check(requests)
    assert not any(r.harvest for r in requests)
