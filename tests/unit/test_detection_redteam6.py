"""Red-team round 6's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

import re
from collections import Counter

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam6 import RED6_NONE, RED6_QUICK, Red6Plan, populate6
from loadtest.detection.redteam6_text import CONTINUE, IMAGE_ASKS
from loadtest.detection.scenarios import FULL, QUICK, BehaviourFn, build
from loadtest.detection.traffic import Account, Request, Role

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red6_self_instruct",
    "red6_verbal_logits",
    "red6_program_trace",
    "red6_error_hunt",
    "red6_image_task",
    "red6_chunked_continue",
}
PERSONAS = {
    "red6_practice_generator",
    "red6_photo_homework",
    "red6_mistake_checker",
    "red6_ticket_router",
    "red6_ide_assistant",
}


def _plan(red: Red6Plan) -> list[tuple[Account, BehaviourFn]]:
    """The accounts ``populate6`` adds for ``red`` (names and seeds as ``scenarios.build``)."""
    out: list[tuple[Account, BehaviourFn]] = []

    def add(scenario: str, role: Role, fn: BehaviourFn, *, planned: int = 0) -> None:
        n = sum(1 for a, _ in out if a.scenario == scenario)
        name = f"{scenario}-{n:04d}"
        acc = Account(name, scenario, role, len(out) + 1, f"10.6.{len(out)}.1", planned=planned)
        out.append((acc, fn))

    populate6(red, add)
    return out


def _sent(red: Red6Plan) -> list[tuple[float, Request]]:
    ((acc, fn),) = _plan(red)
    return drive(acc, fn, CTX, 20_000)


def _user_text(req: Request) -> str:
    content = next(m for m in req.body["messages"] if m["role"] == "user")["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def test_plans_build_with_red6_names_and_sizes() -> None:
    assert not _plan(RED6_NONE)
    everyone = build(FULL)
    names = [acc.name for acc, _ in everyone]
    assert len(names) == len(set(names))
    full = Counter(acc.scenario for acc, _ in everyone if acc.scenario.startswith("red6"))
    assert set(full) == STRATEGIES | PERSONAS
    assert all(full[s] >= 5 for s in STRATEGIES) and all(full[p] >= 3 for p in PERSONAS)
    roles = {acc.scenario: acc.role for acc, _ in everyone if acc.scenario.startswith("red6")}
    assert all(roles[s] == "harvest" for s in STRATEGIES)
    assert all(roles[s] == "benign" for s in PERSONAS)
    quick = Counter(acc.scenario for acc, _ in build(QUICK) if acc.scenario.startswith("red6"))
    assert STRATEGIES <= set(quick) <= STRATEGIES | PERSONAS
    assert sum(quick.values()) < sum(full.values())


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED6_QUICK))
    assert 100 < total < 600


def test_each_strategy_account_takes_its_planned_harvest() -> None:
    for acc, fn in _plan(Red6Plan(evolvers=1, verbalisers=1, programmers=1, tasks=30)):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned == 30


def test_self_instruct_asks_for_new_solved_variants_of_a_pool_task() -> None:
    sent = _sent(Red6Plan(evolvers=1, tasks=40))
    pool = set(CTX.pools.harvest)
    for _, r in sent:
        text = _user_text(r)
        assert any(task in text for task in pool)
        assert re.search(r"\b[345]\b", text)
        assert "solution" in text.lower() or "solve" in text.lower()
        assert r.body.get("max_tokens", 0) < 4000


def test_verbal_logits_asks_for_probabilities_without_logprobs() -> None:
    sent = _sent(Red6Plan(verbalisers=1, tasks=40))
    for _, r in sent:
        assert "logprobs" not in r.body and r.body.get("n", 1) == 1
        text = _user_text(r).lower()
        assert "%" in text or "percent" in text


def test_program_trace_asks_for_commented_code() -> None:
    for _, r in _sent(Red6Plan(programmers=1, tasks=40)):
        text = _user_text(r)
        assert "Python" in text and "comment" in text.lower()


def test_error_hunt_plants_a_wrong_worked_solution() -> None:
    for _, r in _sent(Red6Plan(hunters=1, tasks=40)):
        text = _user_text(r)
        assert ("Answer:" in text) and ("Given:" in text)
        assert any(w in text.lower() for w in ("mistake", "wrong", "fix", "correct"))


def test_image_task_sends_no_task_text() -> None:
    sent = _sent(Red6Plan(imagers=1, tasks=60))
    pool = set(CTX.pools.harvest)
    firsts = [r for _, r in sent if r.harvest]
    assert len(firsts) == 60 and any(not r.harvest for _, r in sent)  # some follow-ups
    kinds = set()
    for r in firsts:
        (user,) = r.body["messages"]
        text, image = user["content"]
        assert text["text"] in IMAGE_ASKS and not any(t in str(r.body) for t in pool)
        url = image["image_url"]["url"]
        kinds.add("inline" if url.startswith("data:image/png;base64,") else "url")
    assert kinds == {"inline", "url"}


def test_chunked_continue_stays_under_256_tokens_and_harvests_once_per_task() -> None:
    sent = _sent(Red6Plan(chunkers=1, chunk_tasks=20))
    assert sum(r.harvest for _, r in sent) == 20
    assert all(r.body["max_tokens"] < 256 for _, r in sent)
    for _, r in sent:
        last = r.body["messages"][-1]["content"]
        if r.harvest:  # the whole trace: the ask and at least two pieces before "continue"
            assert last in CONTINUE and len(r.body["messages"]) >= 5
    assert len(sent) >= 3 * 20


def test_personas_send_their_products_requests() -> None:
    plan = Red6Plan(practice=1, photo=1, checkers=1, routers=1, ides=1)
    for acc, fn in _plan(plan):
        sent = drive(acc, fn, CTX, 20_000)
        assert len(sent) > 100 and not any(r.harvest for _, r in sent)
        bodies = [r.body for _, r in sent]
        if acc.scenario == "red6_photo_homework":
            assert all(isinstance(b["messages"][1]["content"], list) for b in bodies)
        if acc.scenario == "red6_ticket_router":
            assert all(b["max_tokens"] == 40 and len(b["messages"]) == 2 for b in bodies)
        if acc.scenario == "red6_ide_assistant":
            assert all(b["max_tokens"] <= 256 for b in bodies)
            assert any(b["messages"][-1]["content"] in CONTINUE for b in bodies)
        if acc.scenario in ("red6_practice_generator", "red6_mistake_checker"):
            assert all(b["messages"][0]["role"] == "system" for b in bodies)


def test_every_homework_photo_is_its_own_picture() -> None:
    """Two students' photos of one worksheet question are different bytes; a conversation's
    follow-ups send its one photo again."""
    ((acc, fn),) = _plan(Red6Plan(photo=1))
    sent = drive(acc, fn, CTX, 20_000)
    photos: dict[str, set[str]] = {}  # picture -> the follow-up texts sent with it
    firsts = 0
    for _, r in sent:
        messages = r.body["messages"]
        picture = messages[1]["content"][1]["image_url"]["url"]
        firsts += len(messages) == 2
        photos.setdefault(picture, set()).add(str(len(messages)))
    assert len(photos) == firsts > 100  # one picture per conversation, none reused
    assert any(len(lengths) > 1 for lengths in photos.values())  # follow-ups keep the photo
