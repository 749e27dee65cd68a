"""Red-team round 15's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

import base64
from typing import Any

from redteam_accounts import check_builds, plan_accounts

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam15 import RED15_NONE, RED15_QUICK, Red15Plan, populate15
from loadtest.detection.redteam15_pdf import page_text, pdf
from loadtest.detection.redteam15_personas import (
    AUTHOR_STACK,
    DOCS_STACK,
    SHEET_STACK,
)
from loadtest.detection.redteam15_text import (
    MARK_ASKS,
    PAGE_CUES,
    RESPONSES,
    SHEET_ASKS,
    SHEET_RULE,
)
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {"red15_verbosity", "red15_mark_scheme", "red15_continue_page", "red15_pdf_sheet"}
PERSONAS = {"red15_docs_verbose", "red15_exam_author", "red15_worksheet_app"}
SMALL = Red15Plan(verbose=2, marking=1, pages=3, sheets=1, planned=30)
ASK_WORDS = ("step", "reason", "explain", "show your", "think", "rubric", "solution")


def _plan(red: Red15Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate15, red, 15)


def _sent(red: Red15Plan, scenario: str) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red) if acc.scenario == scenario]


def _pdf(part: dict[str, Any]) -> bytes:
    url = part["file"]["file_data"]
    assert url.startswith("data:application/pdf;base64,")
    return base64.b64decode(url.split(",", 1)[1])


def _words(text: str) -> str:
    return " ".join(text.split())


def test_plans_build_with_red15_names_and_sizes() -> None:
    assert not _plan(RED15_NONE)
    check_builds("red15_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED15_QUICK))
    assert 150 < total < 700


def test_each_strategy_account_takes_its_planned_harvest_in_time_order() -> None:
    for acc, fn in _plan(SMALL):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned, acc.name
        assert [t for t, _ in sent] == sorted(t for t, _ in sent)
        for _, r in sent:
            assert not {"logprobs", "seed", "n", "max_tokens", "reasoning"} & set(r.body)
            assert "reasoning_effort" not in r.body


def test_verbosity_sends_the_bare_task_at_high_verbosity_on_both_apis() -> None:
    chat, responses = _sent(SMALL, "red15_verbosity")
    for _, r in chat:
        (user,) = r.body["messages"]
        assert r.body["verbosity"] == "high" and r.body["model"].startswith("gpt-5")
        assert user["content"] in CTX.pools.harvest
    for _, r in responses:
        assert r.path == RESPONSES and r.body["text"] == {"verbosity": "high"}
        assert r.body["input"] in CTX.pools.harvest


def _task_in(text: str) -> str:
    """The one harvest task ``text`` carries."""
    (task,) = [t for t in CTX.pools.harvest if t in text]
    return task


def test_mark_scheme_asks_for_marking_guidance_without_trace_words() -> None:
    (sent,) = _sent(SMALL, "red15_mark_scheme")
    asks = set()
    for _, r in sent:
        (user,) = r.body["messages"]
        item, ask = user["content"].rsplit("\n\n", 1)
        assert ask in MARK_ASKS and not any(w in ask.lower() for w in ASK_WORDS)
        assert item in CTX.pools.harvest or item.split("\n", 1)[1] in CTX.pools.harvest
        asks.add(ask)
    assert len(asks) == 2  # two wordings per account


def test_continue_page_cuts_each_task_where_its_solution_starts() -> None:
    accounts = _sent(SMALL, "red15_continue_page")
    endings = set()
    for sent in accounts:
        texts = [r.body["messages"][0]["content"] for _, r in sent]
        cues = {t.split("\n\n", 1)[0] for t in texts if t.startswith(PAGE_CUES[1:])}
        assert len(cues) <= 1  # one cue (or none) per account
        for text in texts:
            scaffold = text.replace(_task_in(text), "")
            assert not any(w in scaffold.lower() for w in ASK_WORDS[:5])
            assert text.endswith(("Solution\n", ". ", "votes):\n\n"))
            endings.add(text[-2:])
    assert len(endings) == 3  # the three frames across the three accounts


def test_pdf_sheet_sends_the_task_and_its_instruction_only_inside_a_compressed_pdf() -> None:
    (sent,) = _sent(SMALL, "red15_pdf_sheet")
    for _, r in sent:
        (message,) = r.body["messages"]
        text, part = message["content"]
        assert text["type"] == "text" and text["text"] in SHEET_ASKS
        data = _pdf(part)
        assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        words = page_text(data)
        assert SHEET_RULE in words and b"working" not in data  # deflated, not plain
    tasks = [_words(page_text(_pdf(r.body["messages"][0]["content"][1]))) for _, r in sent]
    assert len(set(tasks)) == len(tasks)  # each task once


def test_pdf_holds_the_paragraphs_it_was_given() -> None:
    data = pdf(["A (first) line", "and a second one that is " + "long " * 30])
    assert page_text(data).startswith("A (first) line and a second")
    start = data.index(b"xref\n")
    assert int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0]) == start


def test_look_alikes_send_what_their_products_send() -> None:
    plan = Red15Plan(docs=1, authors=1, students=1)
    (docs,) = _sent(plan, "red15_docs_verbose")
    assert len(docs) > 100 and not any(r.harvest for _, r in docs)
    assert all(r.headers == DOCS_STACK and r.body["verbosity"] == "high" for _, r in docs)
    assert any(len(r.body["messages"]) > 2 for _, r in docs)  # follow-ups
    (author,) = _sent(plan, "red15_exam_author")
    assert all(r.headers == AUTHOR_STACK for _, r in author)
    firsts = [r.body["messages"][1]["content"].split("\n\n")[0] for _, r in author]
    assert len(set(firsts)) < len(firsts) / 2  # the bank's popular items again
    (student,) = _sent(plan, "red15_worksheet_app")
    files = [_pdf(r.body["messages"][1]["content"][1]) for _, r in student]
    assert all(r.headers == SHEET_STACK for _, r in student)
    assert len(set(files)) < len(files) / 2  # the class's same file again
    assert all(SHEET_RULE in page_text(f) for f in files)
