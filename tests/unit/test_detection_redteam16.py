"""Red-team round 16's scenarios are what their names say (no gateway: every request is
answered 200, a Responses request with an id of its own; accounts interleaved in time as the
runner does, so the ring's and the team's members see each other's stored roots)."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from typing import Any

from redteam_accounts import check_builds, plan_accounts

from loadtest.detection.context import Context
from loadtest.detection.harness import _json
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam16 import RED16_NONE, RED16_QUICK, Red16Plan, populate16
from loadtest.detection.redteam16_personas import BRIEF_STACK, STUDY_STACK, TUTOR_STACK
from loadtest.detection.redteam16_text import FIXED_ACK, RESPONSES, STANDING_ASKS
from loadtest.detection.scenarios import QUICK
from loadtest.detection.traffic import Account, Outcome, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red16_rolling_chain",
    "red16_sibling_root",
    "red16_streamed_root",
    "red16_preamble_turn",
}
PERSONAS = {"red16_study_chat", "red16_shared_brief", "red16_stream_tutor"}
SMALL = Red16Plan(rolling=1, siblings=3, streams=1, preambles=1, planned=30)
ASK_WORDS = ("step", "reason", "explain", "show", "working", "think")
Sent = dict[str, list[tuple[float, Request, Outcome]]]


def _run(red: Red16Plan, ctx: Context = CTX, limit: int = 20_000) -> tuple[Sent, list[Account]]:
    """Every account of ``red`` driven in time order, each request answered 200."""
    accounts = plan_accounts(populate16, red, 16)
    sent: Sent = {acc.name: [] for acc, _ in accounts}
    queue: list[tuple[float, int, Request]] = []
    running = [fn(acc, ctx) for acc, fn in accounts]
    for i, gen in enumerate(running):
        t, req = next(gen)
        heapq.heappush(queue, (t, i, req))
    while queue:
        t, i, req = heapq.heappop(queue)
        name = accounts[i][0].name
        n = len(sent[name])
        out = Outcome(200, response_id=f"resp_{name}_{n}" if req.path == RESPONSES else "")
        sent[name].append((t, req, out))
        if n + 1 >= limit:
            continue
        try:
            nt, nreq = running[i].send(out)
        except StopIteration:
            continue
        heapq.heappush(queue, (nt, i, nreq))
    return sent, [acc for acc, _ in accounts]


def _of(sent: Sent, accounts: list[Account], scenario: str) -> list[list[Any]]:
    return [sent[a.name] for a in accounts if a.scenario == scenario]


def _text(req: Request) -> str:
    items = req.body["input"]
    return items if isinstance(items, str) else items[-1]["content"][0]["text"]


def _task(text: str) -> bool:
    return text in CTX.pools.harvest or text.split("\n\n", 1)[-1] in CTX.pools.harvest


def test_plans_build_with_red16_names_and_sizes() -> None:
    assert not plan_accounts(populate16, RED16_NONE, 16)
    check_builds("red16_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    sent, _ = _run(RED16_QUICK, ctx, 5000)
    assert 150 < sum(len(s) for s in sent.values()) < 900


def test_each_strategy_account_takes_its_planned_bare_harvest_in_time_order() -> None:
    sent, accounts = _run(SMALL)
    for acc in accounts:
        got = sent[acc.name]
        assert sum(r.harvest for _, r, _ in got) == acc.planned, acc.name
        assert [t for t, _, _ in got] == sorted(t for t, _, _ in got)
        for _, r, _ in got:
            assert not {"logprobs", "seed", "n", "max_tokens", "reasoning"} & set(r.body)
            last = _text(r) if r.path == RESPONSES else r.body["messages"][-1]["content"]
            if r.harvest:  # the last user turn is the task alone (a "next one" at most)
                scaffold = "" if last in CTX.pools.harvest else last.split("\n\n", 1)[0]
                assert _task(last) and not any(w in scaffold.lower() for w in ASK_WORDS)
            else:
                assert last in STANDING_ASKS or last in CTX.pools.harvest


def test_rolling_chain_continues_the_answer_just_served() -> None:
    sent, accounts = _run(SMALL)
    (chain,) = _of(sent, accounts, "red16_rolling_chain")
    lengths: list[int] = []
    run = 0
    for (_, _, served), (_, r, _) in itertools.pairwise(chain):
        if r.harvest:
            assert r.body["previous_response_id"] == served.response_id
            run += 1
        else:
            assert "previous_response_id" not in r.body and r.body["input"] in STANDING_ASKS
            lengths.append(run)
            run = 0
    assert lengths and all(6 <= n <= 10 for n in lengths)


def test_sibling_ring_never_continues_its_own_roots() -> None:
    sent, accounts = _run(SMALL)
    ring = [a.name for a in accounts if a.scenario == "red16_sibling_root"]
    owners: Counter[str] = Counter()
    for name in ring:
        for _, r, _ in sent[name]:
            if r.harvest:
                owner = r.body["previous_response_id"].rsplit("_", 1)[0][5:]
                assert owner in ring and owner != name
                owners[owner] += 1
            elif "previous_response_id" not in r.body and r.body["input"] in STANDING_ASKS:
                assert r.body["store"] is True
    assert len(owners) == len(ring)  # every member's roots serve a sibling


def test_streamed_root_streams_every_request_and_branches_off_its_root() -> None:
    sent, accounts = _run(SMALL)
    (stream,) = _of(sent, accounts, "red16_streamed_root")
    root = ""
    for _, r, out in stream:
        assert r.body["stream"] is True
        if r.harvest:
            assert r.body["previous_response_id"] == root
        else:
            root = out.response_id


def test_preamble_turn_resends_the_served_opening_before_each_bare_task() -> None:
    sent, accounts = _run(SMALL)
    (chats,) = _of(sent, accounts, "red16_preamble_turn")
    for _, r, _ in chats:
        turns = r.body["messages"]
        if r.harvest:
            assert [m["role"] for m in turns] == ["user", "assistant", "user"]
            assert turns[0]["content"] in STANDING_ASKS and turns[1]["content"] == FIXED_ACK
        else:
            assert len(turns) == 1 and turns[0]["content"] in STANDING_ASKS


def test_sse_answer_gives_the_streamed_response_and_its_id() -> None:
    raw = (
        b'event: response.created\ndata: {"type":"response.created","response":'
        b'{"id":"resp_1","object":"response","status":"in_progress"}}\n\n'
        b'event: response.completed\ndata: {"type":"response.completed","response":'
        b'{"id":"resp_1","object":"response","usage":{"total_tokens":9}}}\n\n'
    )
    assert _json(raw)["usage"] == {"total_tokens": 9} and _json(raw)["id"] == "resp_1"
    assert _json(b"data: [DONE]\n\n") == {} and _json(b'{"id": 1}') == {"id": 1}


def test_look_alikes_send_what_their_products_send() -> None:
    sent, accounts = _run(Red16Plan(students=1, team=3, tutors=1))
    (study,) = _of(sent, accounts, "red16_study_chat")
    assert len(study) > 100 and all(r.headers == STUDY_STACK for _, r, _ in study)
    assert not any(r.harvest for _, r, _ in study)
    later = [r.body["messages"][-1]["content"] for _, r, _ in study if len(r.body["messages"]) > 1]
    problems = [p for p in later if p in CTX.pools.harvest]
    assert problems and len(set(problems)) < len(problems) * 0.8  # popular problems again
    team = _of(sent, accounts, "red16_shared_brief")
    borrowed = 0
    members = [a.name for a in accounts if a.scenario == "red16_shared_brief"]
    for got, name in zip(team, members, strict=True):
        assert all(r.headers == BRIEF_STACK and r.path == RESPONSES for _, r, _ in got)
        named = [
            r.body["previous_response_id"] for _, r, _ in got if "previous_response_id" in r.body
        ]
        borrowed += sum(not previous.startswith(f"resp_{name}_") for previous in named)
    assert borrowed > 50  # colleagues continue one member's brief
    (tutor,) = _of(sent, accounts, "red16_stream_tutor")
    assert all(r.body["stream"] is True and r.headers == TUTOR_STACK for _, r, _ in tutor)
    assert sum("previous_response_id" in r.body for _, r, _ in tutor) > len(tutor) / 2
