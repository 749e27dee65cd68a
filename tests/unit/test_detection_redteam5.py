"""Red-team round 5's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam5 import RED5_FULL, RED5_NONE, RED5_QUICK, Red5Plan, populate5
from loadtest.detection.redteam5_text import EMBED, LEGACY, REASON
from loadtest.detection.scenarios import FULL, QUICK, BehaviourFn, build
from loadtest.detection.traffic import DAY, Account, Request, Role

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {
    "red5_side_channel",
    "red5_tool_smuggle",
    "red5_prompt_batch",
    "red5_embed_distill",
    "red5_critic_loop",
    "red5_staggered_hydra",
}
PERSONAS = {
    "red5_consumer_app",
    "red5_search_indexer",
    "red5_writing_coach",
    "red5_batch_eval",
    "red5_research_student",
}


def _plan(red: Red5Plan) -> list[tuple[Account, BehaviourFn]]:
    """The accounts ``populate5`` adds for ``red`` (names and seeds as ``scenarios.build``)."""
    out: list[tuple[Account, BehaviourFn]] = []

    def add(scenario: str, role: Role, fn: BehaviourFn, *, planned: int = 0) -> None:
        n = sum(1 for a, _ in out if a.scenario == scenario)
        name = f"{scenario}-{n:04d}"
        acc = Account(name, scenario, role, len(out) + 1, f"10.5.{len(out)}.1", planned=planned)
        out.append((acc, fn))

    populate5(red, add)
    return out


def _sent(acc: Account, fn: BehaviourFn, limit: int = 20_000) -> list[tuple[float, Request]]:
    return drive(acc, fn, CTX, limit)


def test_plans_build_with_red5_names_and_sizes() -> None:
    assert not _plan(RED5_NONE)
    full = Counter(acc.scenario for acc, _ in build(FULL) if acc.scenario.startswith("red5"))
    assert set(full) == STRATEGIES | PERSONAS
    assert full["red5_staggered_hydra"] == RED5_FULL.hydra >= 200
    assert full["red5_research_student"] == RED5_FULL.workshops * RED5_FULL.workshop_size
    quick = Counter(acc.scenario for acc, _ in build(QUICK) if acc.scenario.startswith("red5"))
    assert set(quick) <= STRATEGIES | PERSONAS and sum(quick.values()) < sum(full.values())
    roles = {acc.scenario: acc.role for acc, _ in build(FULL) if acc.scenario.startswith("red5")}
    assert all(roles[s] == "harvest" for s in STRATEGIES)
    assert all(roles[s] == "benign" for s in PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED5_QUICK))
    assert 100 < total < 600


def test_side_channel_keeps_the_user_turn_bare() -> None:
    accounts = _plan(Red5Plan(sides=3, tasks=20))
    where: set[str] = set()
    for acc, fn in accounts:
        for _, req in _sent(acc, fn):
            messages = req.body["messages"]
            user = [m for m in messages if m["role"] == "user"]
            assert len(user) == 1 and req.harvest
            content = user[0]["content"]
            if isinstance(content, list):  # content parts: task, then the reasoning ask
                assert content[1]["text"] in REASON and content[0]["text"] not in REASON
                where.add("parts")
            else:
                assert not any(r in content for r in REASON)
                where.add(messages[0]["role"] if messages[0]["role"] != "user" else "prefill")
    assert where == {"developer", "parts", "prefill"}


def test_tool_smuggle_user_turn_is_constant_and_task_in_tool_result() -> None:
    acc, fn = _plan(Red5Plan(smugglers=1, tasks=50))[0]
    sent = _sent(acc, fn)
    assert len(sent) == 50
    users = {str(r.body["messages"][1]["content"]) for _, r in sent}
    tools = {str(r.body["messages"][-1]["content"]) for _, r in sent}
    assert len(users) <= 5 and len(tools) == 50
    assert all(r.body["messages"][-1]["role"] == "tool" for _, r in sent)


def test_batch_and_embeddings_use_their_endpoints() -> None:
    accounts = _plan(Red5Plan(batchers=1, batch_requests=5, embedders=1, embed_requests=5))
    (batcher, bfn), (embedder, efn) = accounts
    sent = _sent(batcher, bfn)
    assert len(sent) == 5 and all(r.path == LEGACY and len(r.body["prompt"]) == 8 for _, r in sent)
    sent = _sent(embedder, efn)
    assert len(sent) == 5 and all(r.path == EMBED and len(r.body["input"]) == 64 for _, r in sent)
    assert all(b - a < 5 for a, b in pairwise(t for t, _ in sent))  # machine pace


def test_critic_loop_harvests_the_revised_answer_once_per_task() -> None:
    acc, fn = _plan(Red5Plan(critics=1, critic_tasks=20))[0]
    sent = _sent(acc, fn)
    assert sum(r.harvest for _, r in sent) == 20
    for _, r in sent:
        if r.harvest:  # task, answer, critique ask, critique, rewrite ask (, rewrite, polish)
            assert len(r.body["messages"]) in (5, 7)


def test_hydra_members_are_light_staggered_and_never_share_an_ask() -> None:
    accounts = _plan(Red5Plan(hydra=RED5_FULL.hydra, hydra_tasks=RED5_FULL.hydra_tasks))
    births: list[float] = []
    asks: list[str] = []
    for acc, fn in accounts:
        sent = _sent(acc, fn)
        assert len(sent) == RED5_FULL.hydra_tasks < 40  # under the policy's min_requests
        births.append(sent[0][0])
        if (len(births)) * len(sent) <= len(set(CTX.pools.harvest)):  # slices fit the pool
            asks += [str(r.body["messages"][-1]["content"]) for _, r in sent]
    births.sort()
    assert births[0] >= 1.5 * DAY and births[-1] < CTX.days * DAY
    # never six births within four hours (the newcomer cohort size, two 2 h buckets)
    assert all(b - a > 4 * 3600 for a, b in zip(births, births[5:], strict=False))
    assert len(asks) >= 600 and len(set(asks)) == len(asks)


def test_workshop_students_sign_up_in_the_same_hour() -> None:
    accounts = _plan(Red5Plan(workshops=1, workshop_size=6))
    firsts = [_sent(acc, fn)[0][0] for acc, fn in accounts]
    assert max(firsts) - min(firsts) < 3600 and min(firsts) > 1.0 * DAY
