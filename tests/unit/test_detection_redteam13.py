"""Red-team round 13's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

from redteam_accounts import check_builds, plan_accounts, users

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam13 import RED13_NONE, RED13_QUICK, Red13Plan, populate13
from loadtest.detection.redteam13_harvest import PLANNERS
from loadtest.detection.redteam13_personas import (
    AGENT_STACK,
    EXAM_ASKS,
    ORDER_TOOLS,
    RESP_STACK,
)
from loadtest.detection.redteam13_text import (
    ELIMINATE_ASKS,
    PART_LEADS,
    PLAN_ASKS,
    THINK_TOOL,
    sub_questions,
)
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {"red13_summary", "red13_socratic", "red13_think_tool", "red13_mcq_elim"}
PERSONAS = {"red13_support_agent", "red13_exam_prep", "red13_resp_assistant"}
SMALL = Red13Plan(summarised=1, socratics=5, thinkers=1, eliminators=1, planned=30)


def _plan(red: Red13Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate13, red, 13)


def _sent(red: Red13Plan, scenario: str) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red) if acc.scenario == scenario]


def _texts(req: Request) -> list[str]:
    """The user text of a request: a chat's user turns, or a Responses body's input parts."""
    if req.path == "/v1/responses":
        return [p["text"] for item in req.body["input"] for p in item["content"]]
    return [str(u) for u in users(req)]


def test_plans_build_with_red13_names_and_sizes() -> None:
    assert not _plan(RED13_NONE)
    check_builds("red13_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED13_QUICK))
    assert 150 < total < 700


def test_each_strategy_account_takes_its_planned_harvest_in_time_order() -> None:
    for acc, fn in _plan(SMALL):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned == len(sent), acc.name
        assert [t for t, _ in sent] == sorted(t for t, _ in sent)
        assert all("logprobs" not in r.body and "seed" not in r.body for _, r in sent)


def test_summary_sends_the_bare_task_to_the_responses_api_for_a_reasoning_summary() -> None:
    (sent,) = _sent(SMALL, "red13_summary")
    for _, r in sent:
        assert r.path == "/v1/responses" and "messages" not in r.body
        parts = _texts(r)  # the task's paragraphs (a lead at times), each its own part
        assert any("\n\n".join(parts).endswith(t) for t in CTX.pools.harvest)
        assert r.body["reasoning"] == {"summary": "detailed"} and "effort" not in str(r.body)


def test_socratic_splits_each_problem_between_decomposers_and_solvers() -> None:
    sent = _sent(SMALL, "red13_socratic")
    asked: dict[str, set[int]] = {}
    for i, account in enumerate(sent):
        for _, r in account:
            (text,) = _texts(r)
            task, ask = text.rsplit("\n\n", 1)
            assert task in CTX.pools.harvest
            if i < PLANNERS:
                assert ask in PLAN_ASKS
                continue
            lead = next(lead for lead in PART_LEADS if ask.startswith(lead))
            assert ask[len(lead) + 1 :] in sub_questions(task)
            asked.setdefault(task, set()).add(i)
    planned = {_texts(r)[0].rsplit("\n\n", 1)[0] for a in sent[:PLANNERS] for _, r in a}
    assert len(planned & set(asked)) > 10  # the same problems, decomposed and solved apart
    assert any(len(who) > 1 for who in asked.values())  # a problem's parts on two accounts


def test_think_tool_sends_the_bare_task_beside_the_fixed_catalogue() -> None:
    (sent,) = _sent(SMALL, "red13_think_tool")
    for _, r in sent:
        assert r.body["tools"][0] == THINK_TOOL and r.body["tool_choice"] == "auto"
        assert _texts(r)[0] in CTX.pools.harvest


def test_mcq_elim_asks_for_the_right_option_and_each_wrong_ones_path() -> None:
    (sent,) = _sent(SMALL, "red13_mcq_elim")
    for _, r in sent:
        item, ask = _texts(r)[0].rsplit("\n\n", 1)
        task, choices = item.rsplit("\n\n", 1)
        assert task in CTX.pools.harvest and ask in ELIMINATE_ASKS
        assert all(f"({x})" in choices for x in "ABCD")


def test_look_alikes_send_what_their_products_send() -> None:
    plan = Red13Plan(agents=1, exams=1, assistants=1)
    (agent,) = _sent(plan, "red13_support_agent")
    assert len(agent) > 200 and not any(r.harvest for _, r in agent)
    assert all(r.headers == AGENT_STACK and r.body["tools"] == ORDER_TOOLS for _, r in agent)
    assert any(r.body["messages"][-1]["role"] == "tool" for _, r in agent)
    (exam,) = _sent(plan, "red13_exam_prep")
    asks = [_texts(r)[0].rsplit("\n\n", 1)[1] for _, r in exam]
    assert set(asks) <= set(EXAM_ASKS)
    assert len({_texts(r)[0] for _, r in exam}) < len(exam)  # popular items again
    (assistant,) = _sent(plan, "red13_resp_assistant")
    assert all(r.path == "/v1/responses" and r.headers == RESP_STACK for _, r in assistant)
    assert any("previous_response_id" in r.body for _, r in assistant)
