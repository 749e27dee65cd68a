"""Red-team round 7's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam7 import RED7_NONE, RED7_QUICK, Red7Plan, populate7
from loadtest.detection.redteam7_text import NOTHING, OPENERS, RELAY_PIECE
from loadtest.detection.scenarios import FULL, QUICK, BehaviourFn, build
from loadtest.detection.traffic import Account, Request, Role

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red7_pairwise_pref",
    "red7_tool_calls",
    "red7_next_step",
    "red7_relay_squad",
    "red7_revisit_cover",
    "red7_twoturn_drip",
}
PERSONAS = {"red7_ab_judge", "red7_tool_assistant", "red7_hint_button", "red7_handoff_desk"}


def _plan(red: Red7Plan) -> list[tuple[Account, BehaviourFn]]:
    """The accounts ``populate7`` adds for ``red`` (names and seeds as ``scenarios.build``)."""
    out: list[tuple[Account, BehaviourFn]] = []

    def add(scenario: str, role: Role, fn: BehaviourFn, *, planned: int = 0) -> None:
        n = sum(1 for a, _ in out if a.scenario == scenario)
        name = f"{scenario}-{n:04d}"
        acc = Account(name, scenario, role, len(out) + 1, f"10.7.{len(out)}.1", planned=planned)
        out.append((acc, fn))

    populate7(red, add)
    return out


def _sent(red: Red7Plan) -> list[tuple[float, Request]]:
    ((acc, fn),) = _plan(red)
    return drive(acc, fn, CTX, 20_000)


def _users(req: Request) -> list[str]:
    return [m["content"] for m in req.body["messages"] if m["role"] == "user"]


def _has_task(text: str) -> bool:
    """A pool task is in ``text`` (a paraphrased ask may lower-case its first letter)."""
    return any(task[1:] in text for task in CTX.pools.harvest)


def test_plans_build_with_red7_names_and_sizes() -> None:
    assert not _plan(RED7_NONE)
    everyone = build(FULL)
    names = [acc.name for acc, _ in everyone]
    assert len(names) == len(set(names))
    full = Counter(acc.scenario for acc, _ in everyone if acc.scenario.startswith("red7"))
    assert set(full) == STRATEGIES | PERSONAS
    assert all(full[s] >= 5 for s in STRATEGIES) and all(full[p] >= 3 for p in PERSONAS)
    assert full["red7_twoturn_drip"] >= 40
    roles = {acc.scenario: acc.role for acc, _ in everyone if acc.scenario.startswith("red7")}
    assert all(roles[s] == "harvest" for s in STRATEGIES)
    assert all(roles[s] == "benign" for s in PERSONAS)
    quick = Counter(acc.scenario for acc, _ in build(QUICK) if acc.scenario.startswith("red7"))
    assert STRATEGIES <= set(quick) <= STRATEGIES | PERSONAS
    assert sum(quick.values()) < sum(full.values())


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED7_QUICK))
    assert 100 < total < 600


def test_each_strategy_account_takes_its_planned_harvest() -> None:
    plan = Red7Plan(
        judges=1,
        callers=1,
        steppers=1,
        revisiters=1,
        relays=3,
        drips=2,
        tasks=30,
        step_tasks=12,
        revisit_tasks=20,
        relay_tasks=10,
        drip_tasks=15,
    )
    for acc, fn in _plan(plan):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned > 0, acc.name
        times = [t for t, _ in sent]
        assert times == sorted(times)


def test_pairwise_pref_asks_a_or_b_about_two_replies_in_few_tokens() -> None:
    for _, r in _sent(Red7Plan(judges=1, tasks=40)):
        (text,) = _users(r)
        assert _has_task(text) and "A" in text and "B" in text and "?" in text
        assert r.body["max_tokens"] <= 60 and "logprobs" not in r.body


def test_tool_calls_send_the_bare_task_beside_a_catalogue_with_a_calculator() -> None:
    sent = _sent(Red7Plan(callers=1, tasks=40))
    results = 0
    for _, r in sent:
        tools = [t["function"]["name"] for t in r.body["tools"]]
        assert r.body["tool_choice"] == "auto" and 3 <= len(tools) <= 5
        assert any(n in tools for n in ("calculate", "math_eval", "python_eval", "calc"))
        assert _has_task(_users(r)[0])
        if r.body["messages"][-1]["role"] == "tool":
            results += 1
            (call,) = r.body["messages"][-2]["tool_calls"]
            assert call["function"]["name"] in tools and json.loads(call["function"]["arguments"])
            assert not r.harvest
    assert 0 < results < len(sent)


def test_next_step_is_single_turn_short_and_harvests_at_the_final_line() -> None:
    sent = _sent(Red7Plan(steppers=1, step_tasks=20))
    assert len(sent) >= 3 * 20 and sum(r.harvest for _, r in sent) == 20
    for _, r in sent:
        (text,) = _users(r)
        assert len(r.body["messages"]) == 1 and r.body["max_tokens"] < 256 and _has_task(text)
        if not r.harvest:
            assert "next" in text.lower()
    firsts = [r for _, r in sent if NOTHING in _users(r)[0]]
    assert len(firsts) == 20  # every trace starts from an empty state


def test_relay_squad_spreads_each_conversation_over_three_members() -> None:
    members = _plan(Red7Plan(relays=3, relay_tasks=10))
    by_opening: dict[str, set[str]] = {}
    for acc, fn in members:
        for _, r in drive(acc, fn, CTX, 20_000):
            users = _users(r)
            assert _has_task(users[0]) and r.body["max_tokens"] <= 500
            assert "step" in users[0].lower()
            pieces = [m["content"] for m in r.body["messages"] if m["role"] == "assistant"]
            assert pieces == list(RELAY_PIECE[: len(pieces)]) and r.harvest == (len(pieces) == 2)
            by_opening.setdefault(users[0], set()).add(acc.name)
    assert len(by_opening) == 30 and all(len(s) == 3 for s in by_opening.values())


def test_revisit_cover_revisits_and_follows_up_on_its_own_tasks() -> None:
    sent = _sent(Red7Plan(revisiters=1, revisit_tasks=60))
    firsts = {_users(r)[0] for _, r in sent if r.harvest}
    cover = [r for _, r in sent if not r.harvest]
    assert len(firsts) == 60 and len(cover) > 30
    assert any(len(_users(r)) > 1 for r in cover)  # follow-ups
    assert all("step" in _users(r)[0].lower() for _, r in sent if r.harvest)
    revisits = [r for r in cover if len(_users(r)) == 1]
    assert revisits and all(_has_task(_users(r)[0]) for r in revisits)


def test_drip_accounts_are_born_in_batches_and_never_single_turn() -> None:
    accounts = _plan(Red7Plan(drips=16, drip_tasks=20))
    births, asked = [], set()
    for acc, fn in accounts:
        sent = drive(acc, fn, CTX, 1000)
        assert len(sent) == 20 < 40  # under the policy's min_requests
        births.append(sent[0][0])
        for _, r in sent:
            first, ask = _users(r)
            assert first in OPENERS and _has_task(ask) and r.body["max_tokens"] < 800
            assert "step" in ask.lower()
            asked.add(ask)
    assert max(births[:8]) - min(births[:8]) < 2 * 3600  # born together
    assert min(births[8:]) - max(births[:8]) > 6 * 3600  # the next batch half a day later
    assert len(asked) == 16 * 20


def _bodies(red: Red7Plan) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for acc, fn in _plan(red):
        sent = drive(acc, fn, CTX, 20_000)
        assert len(sent) > 100 and not any(r.harvest for _, r in sent)
        out.setdefault(acc.scenario, []).extend(dict(r.body) for _, r in sent)
    return out


def test_personas_send_their_products_requests() -> None:
    bodies = _bodies(Red7Plan(ab_judges=1, assistants=1, hints=1, desk=3))
    judge = bodies["red7_ab_judge"]
    assert all(b["max_tokens"] == 60 and "Reply A" in b["messages"][1]["content"] for b in judge)
    assistant = bodies["red7_tool_assistant"]
    assert len({json.dumps(b["tools"]) for b in assistant}) == 1  # one fixed catalogue
    assert any(b["messages"][-1]["role"] == "tool" for b in assistant)
    hints = bodies["red7_hint_button"]
    assert all(b["max_tokens"] == 80 and len(b["messages"]) == 2 for b in hints)
    desk = bodies["red7_handoff_desk"]
    assert sum(len(b["messages"]) > 2 for b in desk) > len(desk) / 2  # threads as history
