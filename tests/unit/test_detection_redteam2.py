"""Round 11b's red-team scenarios in the detection kit are what their names say (no gateway:
each behaviour is driven with every request answered 200)."""

from __future__ import annotations

from itertools import pairwise

from loadtest.detection.__main__ import main
from loadtest.detection.context import Context
from loadtest.detection.evaluate import Options
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import RED2_FULL, RED2_QUICK, drive
from loadtest.detection.redteam2_harvest import _words, topic_area
from loadtest.detection.redteam_personas import APPS
from loadtest.detection.scenarios import QUICK, BehaviourFn, build
from loadtest.detection.traffic import DAY, Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=3.0, cap=400, scale=0.3)


def _drive(acc: Account, fn: BehaviourFn, limit: int = 2000) -> list[tuple[float, Request]]:
    return drive(acc, fn, CTX, limit)


def _by(scenario: str) -> list[tuple[Account, BehaviourFn]]:
    return [(acc, fn) for acc, fn in build(QUICK) if acc.scenario == scenario]


def _user(r: Request) -> str:
    return str(r.body["messages"][-1]["content"])


def test_plans_have_at_least_three_attackers_and_two_look_alikes() -> None:
    roles: dict[str, set[str]] = {"harvest": set(), "benign": set()}
    for acc, _ in build(QUICK):
        if acc.scenario.startswith("red2_"):
            roles[acc.role].add(acc.scenario)
    assert len(roles["harvest"]) >= 3 and len(roles["benign"]) >= 2
    assert RED2_QUICK.sleepers < RED2_FULL.sleepers


def test_sleeper_ages_as_an_ordinary_user_before_harvesting() -> None:
    acc, fn = _by("red2_sleeper")[0]
    sent = _drive(acc, fn)
    first = next(t for t, r in sent if r.harvest)
    aged = [r for t, r in sent if t < first]
    assert first - CTX.start >= RED2_QUICK.aging_days * DAY
    assert len(aged) >= 3 and any(len(r.body["messages"]) > 1 for r in aged)  # follow-ups
    later = [r for t, r in sent if t >= first]
    assert 0.05 < sum(not r.harvest for r in later) / len(later) < 0.5  # old habits kept


def test_topic_squad_members_stay_in_their_area_and_cover_different_ones() -> None:
    members = _by("red2_topic_squad")
    assert len({acc.client_ip.rsplit(".", 1)[0] for acc, _ in members}) == len(members)
    pool = list(CTX.pools.harvest)
    area = topic_area(pool, pool[0], 40)
    seed = _words(pool[0])
    near = sum(bool(seed & _words(t)) for t in area)
    far = sum(bool(seed & _words(t)) for t in pool[-40:])
    assert near > far  # an area is closer to its seed than arbitrary tasks
    asked = [{_user(r) for _, r in _drive(acc, fn)} for acc, fn in members]
    assert all(len(a) == RED2_QUICK.squad_tasks for a in asked)  # each task once
    assert all(not (a & b) for a, b in pairwise(asked))  # members do not overlap


def test_app_mimic_copies_an_app_template_and_harvests() -> None:
    systems = {s for s, _ in APPS}
    for acc, fn in _by("red2_app_mimic"):
        sent = _drive(acc, fn)
        assert all(r.harvest for _, r in sent) and len(sent) == acc.planned
        assert {str(r.body["messages"][0]["content"]) for _, r in sent} <= systems


def test_task_chain_sends_independent_tasks_as_one_conversation() -> None:
    acc, fn = _by("red2_task_chain")[0]
    sent = _drive(acc, fn)
    multi = [r for _, r in sent if len(r.body["messages"]) > 2]
    assert len(multi) > len(sent) / 3
    pool = set(CTX.pools.harvest)
    for r in multi:  # every user turn carries a task (in some disguise)
        users = [str(m["content"]) for m in r.body["messages"] if m["role"] == "user"]
        assert all(any(t[:25].lower() in u.lower() for t in pool) for u in users[-1:])
        assert len(set(users)) == len(users)


def test_look_alikes_share_what_they_should() -> None:
    apps = _by("red2_translation_app")
    assert len({acc.client_ip for acc, _ in apps}) == len(apps)
    sent = _drive(*apps[0])
    assert len({str(r.body["messages"][0]["content"]) for _, r in sent}) > 5  # languages
    assert not any(r.harvest for _, r in sent)
    vendor = _by("red2_label_vendor")
    assert len({acc.client_ip for acc, _ in vendor}) == 1
    stacks = {tuple(sorted(_drive(acc, fn, 1)[0][1].headers.items())) for acc, fn in vendor}
    assert len(stacks) == 1  # one labelling tool
    staff = _by("red2_company_chatbot")
    assert len({acc.client_ip for acc, _ in staff}) == 1
    assert not any(r.harvest for acc, fn in staff for _, r in _drive(acc, fn))


def test_only_selects_scenarios_and_rejects_unknown_ones() -> None:
    assert main(["--quick", "--only", "no_such_scenario"]) == 2
    only = Options(only=frozenset({"red2_sleeper", "casual_chat"})).only
    chosen = build(QUICK, 1, only)
    assert {acc.scenario for acc, _ in chosen} == only
    assert [a.name for a, _ in chosen] == [a.name for a, _ in build(QUICK) if a.scenario in only]
