"""Red-team round 12's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

from redteam_accounts import check_builds, plan_accounts, users

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam12 import RED12_NONE, RED12_QUICK, Red12Plan, populate12
from loadtest.detection.redteam12_personas import (
    CLAIMS_STACK,
    REVIEW_ASKS,
    STUDENT_ASKS,
    STUDENT_STACK,
)
from loadtest.detection.redteam12_text import CONFUSABLE, FORMS, INVISIBLE, LONG_TAIL, STEP_ASKS
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {"red12_confusable", "red12_fill_form", "red12_puzzle_digest", "red12_long_tail"}
PERSONAS = {"red12_claims_form", "red12_doc_review", "red12_sw_student"}
LATIN = {ord(v): chr(k) for k, v in CONFUSABLE.items()}
SMALL = Red12Plan(confusables=2, formers=2, digests=1, tails=5, planned=25)


def _plan(red: Red12Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate12, red, 12)


def _sent(red: Red12Plan, scenario: str) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red) if acc.scenario == scenario]


def _last(req: Request) -> str:
    return str(users(req)[-1])


def test_plans_build_with_red12_names_and_sizes() -> None:
    assert not _plan(RED12_NONE)
    check_builds("red12_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED12_QUICK))
    assert 150 < total < 600


def test_each_strategy_account_takes_its_planned_harvest_once_a_task_in_time_order() -> None:
    for acc, fn in _plan(SMALL):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned == len(sent), acc.name
        assert [t for t, _ in sent] == sorted(t for t, _ in sent)
        assert all(len(users(r)) == 1 and "logprobs" not in r.body for _, r in sent)
        tasks = [next(t for t in CTX.pools.harvest if t in _last(r)) for _, r in sent]
        assert len(set(tasks)) == len(sent), acc.name


def test_confusable_ask_reads_as_a_step_ask_but_never_matches_one() -> None:
    marks = []
    for sent in _sent(SMALL, "red12_confusable"):
        for _, r in sent:
            task, ask = _last(r).rsplit("\n\n", 1)
            assert task in CTX.pools.harvest and "step" not in ask
            shown = "".join(LATIN.get(ord(c), c) for c in ask if c not in INVISIBLE)
            assert shown in STEP_ASKS
        marks.append(any(c in INVISIBLE for _, r in sent for c in _last(r)))
    assert marks == [False, True]  # even accounts: look-alike letters; odd: invisible marks


def test_fill_form_sends_a_record_with_a_neutral_working_field_and_no_trace_words() -> None:
    for i, sent in enumerate(_sent(SMALL, "red12_fill_form")):
        for _, r in sent:
            text = _last(r).lower()
            assert FORMS[i][1] in text and FORMS[i][0] in text
            assert not any(w in text.split("record (")[1] for w in ("step", "reason", "explain"))


def test_puzzle_digest_buries_the_task_in_a_newsletter_of_benign_texts() -> None:
    (sent,) = _sent(SMALL, "red12_puzzle_digest")
    for _, r in sent:
        text = _last(r)
        assert "## Reader puzzle\n" in text and len(text) > 2400
        assert sum(s[:200] in text for s in CTX.pools.benign) >= 2


def test_long_tail_asks_in_each_language_for_an_english_answer() -> None:
    langs = []
    for sent in _sent(SMALL, "red12_long_tail"):
        tails = {_last(r).rsplit("\n\n", 1)[1] for _, r in sent}
        (lang,) = {k for k, (asks, en) in LONG_TAIL.items() for t in tails if t.endswith(en)}
        assert all(any(t == f"{a} {LONG_TAIL[lang][1]}" for a in LONG_TAIL[lang][0]) for t in tails)
        langs.append(lang)
    assert sorted(langs) == sorted(LONG_TAIL)


def test_look_alikes_send_what_their_products_send() -> None:
    plan = Red12Plan(claims=1, reviewers=1, students=1)
    (claims,) = _sent(plan, "red12_claims_form")
    assert len(claims) > 200 and not any(r.harvest for _, r in claims)
    assert all(r.headers == CLAIMS_STACK and '"justification"' in _last(r) for _, r in claims)
    (review,) = _sent(plan, "red12_doc_review")
    assert all(len(users(r)[0]) > 2400 for _, r in review)
    assert {users(r)[0].rsplit("\n\n", 1)[1] for _, r in review} <= set(REVIEW_ASKS)
    assert any(len(users(r)) > 1 for _, r in review)  # follow-ups
    (student,) = _sent(plan, "red12_sw_student")
    assert all(r.headers == STUDENT_STACK for _, r in student)
    assert {users(r)[0].rsplit("\n\n", 1)[1] for _, r in student} <= set(STUDENT_ASKS)
