"""Red-team round 10's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from redteam_accounts import check_builds, plan_accounts, system, users

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam10 import RED10_NONE, RED10_QUICK, Red10Plan, populate10
from loadtest.detection.redteam10_text import (
    BROWSERS,
    COPY_STACK,
    COPY_SYSTEM,
    CRM_STACK,
    CRM_SYSTEM,
    ENTITY_ASKS,
    FRONTEND_STACK,
    PAIR_ASKS,
    VOICE_ASKS,
    VOICE_STACK,
    VOICE_SYSTEM,
    VOICE_TEXT,
)
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red10_entity_labels",
    "red10_voice_task",
    "red10_if_constraints",
    "red10_pref_pairs",
    "red10_piggyback",
}
PERSONAS = {
    "red10_voice_notes",
    "red10_crm_extractor",
    "red10_copy_tool",
    "red10_auto_title",
}
CORPUS = CTX.pools.benign + CTX.pools.harvest


def _plan(red: Red10Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate10, red, 10)


def _sent(red: Red10Plan) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red)]


def _has(pool: tuple[str, ...], text: str, limit: int = 200) -> bool:
    """A prompt of ``pool`` (its start) is in ``text``."""
    return any(p[:limit] in text for p in pool)


def _parts(req: Request) -> list[dict[str, Any]]:
    content = req.body["messages"][-1]["content"]
    assert isinstance(content, list)
    return content


def test_plans_build_with_red10_names_and_sizes() -> None:
    assert not _plan(RED10_NONE)
    check_builds("red10_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED10_QUICK))
    assert 100 < total < 600


def test_each_strategy_account_takes_its_planned_harvest_in_time_order() -> None:
    plan = Red10Plan(
        labellers=2,
        labelled=30,
        speakers=1,
        spoken=20,
        constrainers=2,
        constrained=20,
        pairers=1,
        pairs=20,
        volunteers=2,
        piggybacked=25,
    )
    for acc, fn in _plan(plan):
        sent = drive(acc, fn, CTX, 20_000)
        harvest = sum(r.harvest for _, r in sent)
        assert harvest == acc.planned, acc.name
        if acc.scenario != "red10_piggyback":
            assert len(sent) == harvest
        times = [t for t, _ in sent]
        assert times == sorted(times)


def test_entity_labels_sends_own_passages_with_one_fixed_ask_in_json_mode() -> None:
    seen: list[str] = []
    for sent in _sent(Red10Plan(labellers=2, labelled=40)):
        asks = {users(r)[0].rsplit("\n\n", 1)[1] for _, r in sent}
        assert len(asks) == 1 and asks <= set(ENTITY_ASKS)
        for _, r in sent:
            assert system(r) is None and r.body["response_format"] == {"type": "json_object"}
            assert _has(CORPUS, users(r)[0]) and r.body["max_tokens"] <= 400
            seen.append(users(r)[0])
    assert len(seen) == 80 == len(set(seen))  # disjoint slices, each passage once


def test_voice_task_sends_each_task_only_as_a_recording() -> None:
    (sent,) = _sent(Red10Plan(speakers=1, spoken=30))
    recordings = set()
    for _, r in sent:
        parts = _parts(r)
        (text,) = [p["text"] for p in parts if p["type"] == "text"]
        (audio,) = [p["input_audio"] for p in parts if p["type"] == "input_audio"]
        assert text in VOICE_ASKS and "audio" in r.body["model"]
        assert not _has(CTX.pools.harvest, text, 60)  # the task is not in the text
        assert 3000 < len(base64.b64decode(audio["data"])) <= 12_004
        recordings.add(audio["data"])
    assert len(recordings) == 30  # a new task each request


def test_if_constraints_appends_checkable_constraints_to_real_prompts() -> None:
    (sent,) = _sent(Red10Plan(constrainers=1, constrained=30))
    texts = [users(r)[0] for _, r in sent]
    assert len(set(texts)) == 30 and all(_has(CORPUS, t) for t in texts)
    tails = [t.rsplit("\n\n", 1)[1] for t in texts]
    assert len(set(tails)) > 20 and all(tail.strip() for tail in tails)
    assert not any("step by step" in t.lower() for t in texts)


def test_pref_pairs_asks_for_a_correct_and_a_flawed_answer() -> None:
    (sent,) = _sent(Red10Plan(pairers=1, pairs=25))
    texts = [users(r)[0] for _, r in sent]
    heads = [a.split("{task}")[0] or a.split("{task}")[1][:30] for a in PAIR_ASKS]
    assert all(any(h in t for h in heads) and _has(CTX.pools.harvest, t, 60) for t in texts)
    assert len(set(texts)) == 25 and all(r.body["max_tokens"] >= 900 for _, r in sent)


def test_piggyback_sends_tasks_from_the_browser_seconds_after_the_person() -> None:
    (sent,) = _sent(Red10Plan(volunteers=1, piggybacked=60))
    own = [r for _, r in sent if not r.harvest]
    assert len(own) > 60 and len({tuple(r.headers.items()) for r in own}) == 1
    assert any(len(users(r)) > 1 for r in own)  # the person's follow-ups
    for i, (t, r) in enumerate(sent):
        if r.harvest:
            assert r.headers["User-Agent"] in BROWSERS
            assert _has(CTX.pools.harvest, users(r)[0], 60)
            assert 2.0 <= t - sent[i - 1][0] <= 30.0  # after the previous request


def _bodies(red: Red10Plan) -> dict[str, list[tuple[dict[str, Any], dict[str, str]]]]:
    out: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}
    for acc, fn in _plan(red):
        sent = drive(acc, fn, CTX, 20_000)
        assert len(sent) > 100 and not any(r.harvest for _, r in sent)
        out.setdefault(acc.scenario, []).extend((dict(r.body), dict(r.headers)) for _, r in sent)
    return out


def test_personas_send_their_products_requests() -> None:
    bodies = _bodies(Red10Plan(voice_apps=1, crms=1, copy_tools=1, front_ends=1))
    voice = bodies["red10_voice_notes"]
    assert all(b["messages"][0]["content"] == VOICE_SYSTEM and h == VOICE_STACK for b, h in voice)
    last = [b["messages"][-1]["content"] for b, _ in voice]
    assert all(c[0]["text"] == VOICE_TEXT and c[1]["type"] == "input_audio" for c in last)
    assert len({c[1]["input_audio"]["data"] for c in last}) == len(last)
    crm = bodies["red10_crm_extractor"]
    assert all(b["messages"][0]["content"] == CRM_SYSTEM and h == CRM_STACK for b, h in crm)
    assert all(b["response_format"] == {"type": "json_object"} for b, _ in crm)
    copy = bodies["red10_copy_tool"]
    assert all(b["messages"][0]["content"] == COPY_SYSTEM and h == COPY_STACK for b, h in copy)
    briefs = Counter(b["messages"][1]["content"].split("\n\nRequirements:")[0] for b, _ in copy)
    assert briefs.most_common(1)[0][1] > 5  # popular briefs regenerated
    front = bodies["red10_auto_title"]
    assert all(h == FRONTEND_STACK for _, h in front)
    titles = [b for b, _ in front if "concise title" in b["messages"][-1]["content"]]
    assert 0 < len(titles) < len(front) / 2 and all(b["max_tokens"] == 50 for b in titles)
