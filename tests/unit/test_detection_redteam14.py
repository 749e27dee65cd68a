"""Red-team round 14's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

from typing import Any

from redteam_accounts import check_builds, plan_accounts

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam14 import RED14_NONE, RED14_QUICK, Red14Plan, populate14
from loadtest.detection.redteam14_harvest import COACH_SYSTEM
from loadtest.detection.redteam14_personas import (
    COACH_GREETING,
    COACH_STACK,
    PROMPT_STACK,
    TUTOR_MODEL,
)
from loadtest.detection.redteam14_text import CHAIN_SETUPS, GREETINGS, RESPONSES
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {"red14_stored_prompt", "red14_chained_ask", "red14_greeting", "red14_tuned_model"}
PERSONAS = {"red14_prompt_app", "red14_tutor_chain", "red14_coach_app"}
SMALL = Red14Plan(prompted=1, chained=1, greeted=1, tuned=1, planned=30)
ASK_WORDS = ("step", "reason", "working", "explain", "show")


def _plan(red: Red14Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate14, red, 14)


def _sent(red: Red14Plan, scenario: str) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red) if acc.scenario == scenario]


def _input(body: Any) -> str:
    """A Responses body's input text (a string or one message item's parts)."""
    given = body["input"]
    if isinstance(given, str):
        return given
    return "\n\n".join(p["text"] for item in given for p in item["content"])


def _bare(text: str) -> bool:
    return text in CTX.pools.harvest


def test_plans_build_with_red14_names_and_sizes() -> None:
    assert not _plan(RED14_NONE)
    check_builds("red14_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED14_QUICK))
    assert 150 < total < 700


def test_each_strategy_account_takes_its_planned_harvest_in_time_order() -> None:
    for acc, fn in _plan(SMALL):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned, acc.name
        assert [t for t, _ in sent] == sorted(t for t, _ in sent)
        assert all("logprobs" not in r.body and "seed" not in r.body for _, r in sent)
        assert all("reasoning" not in r.body for _, r in sent)


def test_stored_prompt_sends_the_bare_task_as_a_stored_prompts_input() -> None:
    (sent,) = _sent(SMALL, "red14_stored_prompt")
    assert len({r.body["prompt"]["id"] for _, r in sent}) == 1  # one saved prompt
    for _, r in sent:
        assert r.path == RESPONSES and _bare(_input(r.body))
        assert r.body["prompt"]["id"].startswith("pmpt_") and "instructions" not in r.body
        assert not any(w in str(r.body["prompt"]["variables"]) for w in ASK_WORDS)


def test_chained_ask_sends_the_ask_once_then_bare_tasks_off_that_root() -> None:
    (sent,) = _sent(SMALL, "red14_chained_ask")
    setups = [r for _, r in sent if not r.harvest]
    assert setups and all(r.body["input"] in CHAIN_SETUPS for r in setups)
    tasks = [r for _, r in sent if r.harvest]
    assert all(_bare(_input(r.body)) and r.path == RESPONSES for r in tasks)
    roots = [r.body["previous_response_id"] for r in tasks]
    assert len(set(roots)) < len(roots) / 10  # many tasks branch off one root


def test_greeting_sends_the_bare_task_after_the_apps_opening_line() -> None:
    (sent,) = _sent(SMALL, "red14_greeting")
    for _, r in sent:
        system, opening, user = r.body["messages"]
        assert system["content"] == COACH_SYSTEM and opening["role"] == "assistant"
        assert opening["content"] in GREETINGS and _bare(user["content"])


def test_tuned_model_sends_the_bare_task_alone_to_a_fine_tune() -> None:
    (sent,) = _sent(SMALL, "red14_tuned_model")
    assert len({r.body["model"] for _, r in sent}) == 1
    for _, r in sent:
        (user,) = r.body["messages"]
        assert r.body["model"].startswith("ft:gpt-4.1") and _bare(user["content"])


def test_look_alikes_send_what_their_products_send() -> None:
    plan = Red14Plan(drafters=1, tutors=1, coaches=1)
    (drafter,) = _sent(plan, "red14_prompt_app")
    assert len(drafter) > 100 and not any(r.harvest for _, r in drafter)
    assert all(r.headers == PROMPT_STACK and "prompt" in r.body for _, r in drafter)
    (tutor,) = _sent(plan, "red14_tutor_chain")
    assert all(r.body["model"] == TUTOR_MODEL for _, r in tutor)
    assert any("previous_response_id" in r.body for _, r in tutor)
    assert any(_bare(_input(r.body)) for _, r in tutor)  # a class's shared problem, bare
    (coach,) = _sent(plan, "red14_coach_app")
    assert all(r.headers == COACH_STACK for _, r in coach)
    assert all(r.body["messages"][1]["content"] == COACH_GREETING for _, r in coach)
    firsts = [r.body["messages"][2]["content"] for _, r in coach]
    assert len(set(firsts)) < len(firsts)  # popular problems again
