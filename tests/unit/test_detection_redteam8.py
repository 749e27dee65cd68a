"""Red-team round 8's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

from typing import Any

from redteam_accounts import check_builds, plan_accounts, system, users

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam8 import RED8_NONE, RED8_QUICK, Red8Plan, populate8
from loadtest.detection.redteam8_text import (
    APP_STACK,
    APP_SYSTEM,
    CODE,
    FRONTEND_STACK,
    FRONTEND_SYSTEM,
    SIM_SYSTEM,
)
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red8_prompt_replay",
    "red8_self_chat",
    "red8_app_users",
    "red8_rationalize",
    "red8_code_explain",
}
PERSONAS = {
    "red8_frontend_user",
    "red8_answer_key",
    "red8_reply_suggest",
    "red8_bootcamp_student",
}


def _plan(red: Red8Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate8, red, 8)


def _sent(red: Red8Plan) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red)]


def _has(pool: tuple[str, ...], text: str) -> bool:
    """A prompt of ``pool`` is in ``text`` (an ask may lower-case it)."""
    low = text.lower()
    return any(p[1:].lower() in low for p in pool)


def test_plans_build_with_red8_names_and_sizes() -> None:
    assert not _plan(RED8_NONE)
    check_builds("red8", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED8_QUICK))
    assert 100 < total < 600


def test_each_strategy_account_takes_its_planned_harvest() -> None:
    plan = Red8Plan(
        replayers=2,
        chatters=1,
        app_users=2,
        rationalizers=1,
        coders=2,
        replay_prompts=20,
        dialogues=8,
        app_tasks=15,
        tasks=25,
        code_prompts=10,
    )
    for acc, fn in _plan(plan):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned > 0, acc.name
        times = [t for t, _ in sent]
        assert times == sorted(times)


def test_prompt_replay_sends_real_users_prompts_once_each_plainly_and_long() -> None:
    accounts = _sent(Red8Plan(replayers=3, replay_prompts=30))
    seen: list[str] = []
    for sent in accounts:
        for _, r in sent:
            (text,) = users(r)
            assert text in CTX.pools.benign and len(r.body["messages"]) == 1
            assert 1500 <= r.body["max_tokens"] < 4000 and r.harvest
            seen.append(text)
    assert len(seen) == 90 == len(set(seen))  # disjoint slices, never repeated


def test_self_chat_has_the_teacher_write_the_follow_ups() -> None:
    (sent,) = _sent(Red8Plan(chatters=1, dialogues=10))
    assert len(sent) == 5 * 10 and sum(r.harvest for _, r in sent) == 10
    sims = [r for _, r in sent if system(r) == SIM_SYSTEM]
    answers = [r for _, r in sent if system(r) is None]
    assert len(sims) == 20 and len(answers) == 30
    assert all("Tutor:" in users(r)[0] and r.body["max_tokens"] <= 80 for r in sims)
    follow_ups = [users(r)[-1] for r in answers if len(users(r)) > 1]
    assert len(follow_ups) == 20 and len(set(follow_ups)) > 15  # specific, rarely repeated
    assert all(_has(CTX.pools.harvest, users(r)[0]) for r in answers)
    assert all("step" in users(r)[0].lower() for r in answers)
    assert all(r.harvest == (len(users(r)) == 3) for r in answers)


def test_app_users_share_the_apps_prompt_and_stack_but_not_their_tasks() -> None:
    accounts = _sent(Red8Plan(app_users=3, app_tasks=40))
    asked: list[str] = []
    cover = 0
    for sent in accounts:
        for _, r in sent:
            assert system(r) == APP_SYSTEM and dict(r.headers) == APP_STACK
            if r.harvest:
                asked.append(users(r)[0])
                assert _has(CTX.pools.harvest, users(r)[0])
            elif len(users(r)) == 1:
                cover += 1
                assert any(p.startswith(users(r)[0]) for p in CTX.pools.benign)
    assert len(asked) == 120 == len(set(asked)) and cover > 10


def test_rationalize_sends_the_task_with_its_answer() -> None:
    (sent,) = _sent(Red8Plan(rationalizers=1, tasks=40))
    for _, r in sent:
        (text,) = users(r)
        assert _has(CTX.pools.harvest, text) and "answer" in text.lower() and r.harvest
        assert any(ch.isdigit() for ch in text) and len(r.body["messages"]) == 1


def test_code_explain_asks_for_step_by_step_code_on_coding_prompts() -> None:
    (sent,) = _sent(Red8Plan(coders=1, code_prompts=20))
    firsts = [users(r)[0] for _, r in sent if r.harvest]
    assert len(firsts) == 20 == len(set(firsts))
    assert all(CODE.search(t) and "step" in t.lower() for t in firsts)
    assert any(len(users(r)) == 2 for _, r in sent)  # follow-ups


def _bodies(red: Red8Plan) -> dict[str, list[tuple[dict[str, Any], dict[str, str]]]]:
    out: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}
    for acc, fn in _plan(red):
        sent = drive(acc, fn, CTX, 20_000)
        assert len(sent) > 100 and not any(r.harvest for _, r in sent)
        out.setdefault(acc.scenario, []).extend((dict(r.body), dict(r.headers)) for _, r in sent)
    return out


def test_personas_send_their_products_requests() -> None:
    bodies = _bodies(Red8Plan(frontend=2, answer_keys=1, suggesters=1, bootcamp=2))
    frontend = bodies["red8_frontend_user"]
    assert all(b["messages"][0]["content"] == FRONTEND_SYSTEM for b, _ in frontend)
    assert all(h == FRONTEND_STACK for _, h in frontend)
    firsts = [b["messages"][1]["content"] for b, _ in frontend]
    assert len(set(firsts)) < len(firsts) / 2  # interests revisited, follow-ups
    keys = [b["messages"][1]["content"] for b, _ in bodies["red8_answer_key"]]
    assert len(set(keys)) < len(keys) / 2  # popular problems again and again
    suggest = bodies["red8_reply_suggest"]
    asks = sum(b.get("max_tokens") == 40 for b, _ in suggest)
    assert 0.4 < asks / len(suggest) < 0.6  # a suggestion request after every answer
    camp = [b["messages"][0]["content"] for b, _ in bodies["red8_bootcamp_student"]]
    assert all("step by step" in c for c in camp)
    assert len(set(camp)) < len(camp)  # the class's exercises again
