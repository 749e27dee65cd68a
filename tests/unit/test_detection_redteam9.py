"""Red-team round 9's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from redteam_accounts import check_builds, plan_accounts, system, users

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam9 import RED9_NONE, RED9_QUICK, Red9Plan, populate9
from loadtest.detection.redteam9_text import (
    ANSWER_SYSTEM,
    COURSE_SYSTEM,
    PDF_SYSTEM,
    QUERY_ASKS,
    RATER_SYSTEMS,
    REVIEW_STACK,
    REVIEW_SYSTEM,
    REWRITE_SYSTEM,
    SHEET_SIZE,
    TARGETS,
)
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red9_quality_rater",
    "red9_query_gen",
    "red9_cache_ride",
    "red9_textbook",
    "red9_translate",
}
PERSONAS = {
    "red9_review_scorer",
    "red9_query_rewrite",
    "red9_pdf_chat",
    "red9_course_author",
}


def _plan(red: Red9Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate9, red, 9)


def _sent(red: Red9Plan) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red)]


def _has(pool: tuple[str, ...], text: str, limit: int = 200) -> bool:
    """A prompt of ``pool`` (its start) is in ``text``."""
    return any(p[:limit] in text for p in pool)


def test_plans_build_with_red9_names_and_sizes() -> None:
    assert not _plan(RED9_NONE)
    check_builds("red9", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED9_QUICK))
    assert 100 < total < 600


def test_each_strategy_account_takes_its_planned_harvest_in_time_order() -> None:
    plan = Red9Plan(
        raters=2,
        rated=30,
        query_makers=2,
        passages=20,
        cache_riders=1,
        sheet_tasks=24,
        authors=1,
        sections=15,
        translators=2,
        translations=20,
    )
    for acc, fn in _plan(plan):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned == len(sent), acc.name
        times = [t for t, _ in sent]
        assert times == sorted(times)


def test_quality_rater_grades_own_passages_under_a_fixed_pipeline_prompt() -> None:
    accounts = _sent(Red9Plan(raters=2, rated=40))
    seen: list[str] = []
    for sent in accounts:
        systems = {system(r) for _, r in sent}
        assert len(systems) == 1 and systems <= set(RATER_SYSTEMS)
        for _, r in sent:
            (text,) = users(r)
            assert _has(CTX.pools.benign + CTX.pools.harvest, text) and r.body["max_tokens"] <= 256
            seen.append(text)
    assert len(seen) == 80 == len(set(seen))  # disjoint slices, each passage once


def test_query_gen_asks_for_queries_and_a_near_miss_per_passage() -> None:
    (sent,) = _sent(Red9Plan(query_makers=1, passages=30))
    texts = [users(r)[0] for _, r in sent]
    assert all(any(ask in t for ask in QUERY_ASKS) for t in texts)
    assert all(_has(CTX.pools.benign + CTX.pools.harvest, t) for t in texts)
    assert len(set(texts)) == 30 and all(r.body["max_tokens"] <= 200 for _, r in sent)


def test_cache_ride_resends_one_worksheet_per_eight_problems() -> None:
    (sent,) = _sent(Red9Plan(cache_riders=1, sheet_tasks=32))
    prefixes = [users(r)[0].rsplit("\n\n", 1)[0] for _, r in sent]
    assert len(sent) == 32 and len(set(prefixes)) == 32 // SHEET_SIZE
    for i, prefix in enumerate(prefixes):
        assert prefix == prefixes[i - i % SHEET_SIZE]  # identical bytes within a worksheet
        assert f"{SHEET_SIZE}. " in prefix and _has(CTX.pools.harvest, prefix, 60)
        ask = users(sent[i][1])[0].rsplit("\n\n", 1)[1]
        assert str(i % SHEET_SIZE + 1) in ask


def test_textbook_asks_for_a_genre_text_around_each_task() -> None:
    (sent,) = _sent(Red9Plan(authors=1, sections=25))
    texts = [users(r)[0] for _, r in sent]
    assert all(_has(CTX.pools.harvest, t, 60) and "for " in t for t in texts)
    assert len(set(texts)) == 25 and all(r.body["max_tokens"] >= 1500 for _, r in sent)
    assert not any("step by step" in t.lower() for t in texts)


def test_translate_sends_solved_problems_in_one_language_per_account() -> None:
    accounts = _sent(Red9Plan(translators=3, translations=20))
    langs = []
    for sent in accounts:
        texts = [users(r)[0] for _, r in sent]
        (lang,) = {x for x in TARGETS if all(x in t for t in texts)}
        langs.append(lang)
        assert all(_has(CTX.pools.harvest, t, 60) for t in texts)
        assert all(" = " in t or "Multiply" in t for t in texts)  # the solution rides along
    assert len(set(langs)) == 3


def _bodies(red: Red9Plan) -> dict[str, list[tuple[dict[str, Any], dict[str, str]]]]:
    out: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}
    for acc, fn in _plan(red):
        sent = drive(acc, fn, CTX, 20_000)
        assert len(sent) > 100 and not any(r.harvest for _, r in sent)
        out.setdefault(acc.scenario, []).extend((dict(r.body), dict(r.headers)) for _, r in sent)
    return out


def test_personas_send_their_products_requests() -> None:
    bodies = _bodies(Red9Plan(reviews=1, rewriters=1, pdf_users=1, course_authors=1))
    reviews = bodies["red9_review_scorer"]
    assert all(b["messages"][0]["content"] == REVIEW_SYSTEM for b, _ in reviews)
    assert all(h == REVIEW_STACK and b["max_tokens"] == 40 for b, h in reviews)
    rewrite = Counter(b["messages"][0]["content"] for b, _ in bodies["red9_query_rewrite"])
    assert set(rewrite) == {REWRITE_SYSTEM, ANSWER_SYSTEM}
    assert rewrite[REWRITE_SYSTEM] == rewrite[ANSWER_SYSTEM]  # a rewrite before each answer
    pdf = [b["messages"][1]["content"] for b, _ in bodies["red9_pdf_chat"]]
    assert all(b["messages"][0]["content"] == PDF_SYSTEM for b, _ in bodies["red9_pdf_chat"])
    docs = {t.rsplit("\n\n", 1)[0] for t in pdf}
    assert len(docs) < len(pdf) / 2  # a document re-sent with each question
    course = bodies["red9_course_author"]
    assert all(b["messages"][0]["content"] == COURSE_SYSTEM for b, _ in course)
    firsts = [b["messages"][1]["content"] for b, _ in course]
    assert len(set(firsts)) < len(firsts) / 2  # the bank's popular problems again, edits
