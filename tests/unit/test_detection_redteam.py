"""The red team's scenarios in the detection kit are what their names say (no gateway: each
behaviour is driven with every request answered 200)."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam import RED_FULL, RED_QUICK
from loadtest.detection.redteam2 import drive
from loadtest.detection.scenarios import QUICK, BehaviourFn, build
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=3.0, cap=400, scale=0.3)


def _drive(acc: Account, fn: BehaviourFn, limit: int = 2000) -> list[tuple[float, Request]]:
    return drive(acc, fn, CTX, limit)


def _by(scenario: str) -> list[tuple[Account, BehaviourFn]]:
    return [(acc, fn) for acc, fn in build(QUICK) if acc.scenario == scenario]


def test_full_plan_sizes() -> None:
    assert RED_FULL.drip == 1000 and RED_FULL.squads * RED_FULL.squad_size >= 50
    assert RED_QUICK.drip < RED_FULL.drip


def test_squads_are_unlinked_and_paraphrased() -> None:
    members = _by("red_squad_paraphrase")
    assert len(members) == RED_QUICK.squads * RED_QUICK.squad_size
    assert not any(acc.attrs for acc, _ in members)
    assert len({acc.client_ip.rsplit(".", 1)[0] for acc, _ in members}) == len(members)
    texts: list[str] = []
    gaps: list[float] = []
    for acc, fn in members[: RED_QUICK.squad_size]:  # one squad
        sent = _drive(acc, fn)
        assert 0 < len(sent) <= acc.planned
        texts += [str(r.body["messages"][-1]["content"]) for _, r in sent]
        times = [t for t, _ in sent]
        gaps += [b - a for a, b in pairwise(times)]
        assert all(r.harvest and r.body["max_tokens"] < 4000 for _, r in sent)
    # paraphrased: almost every ask its own wording (two members can draw the same task and
    # the same disguise from the small bundled pool the kit uses without the full corpora)
    assert len(set(texts)) >= 0.97 * len(texts)
    assert min(gaps) > 60  # human pace: one ask per wave


def test_drip_accounts_stay_under_20_requests() -> None:
    accounts = _by("red_drip_1000")
    assert len(accounts) == RED_QUICK.drip
    for acc, fn in accounts:
        assert len(_drive(acc, fn)) == acc.planned < 20


def test_rotator_changes_client_stack_and_parameters() -> None:
    acc, fn = _by("red_sdk_rotator")[0]
    sent = _drive(acc, fn, 50)
    agents = {r.headers["User-Agent"] for _, r in sent}
    temps = {r.body["temperature"] for _, r in sent}
    assert len(agents) > 10 and len(temps) > 10


def test_mimic_follows_up_and_camouflage_is_half_benign() -> None:
    acc, fn = _by("red_solo_mimic")[0]
    sent = _drive(acc, fn, 300)
    assert sum(len(r.body["messages"]) > 2 for _, r in sent) > 50  # follow-up turns
    acc, fn = _by("red_camouflage")[0]
    sent = _drive(acc, fn, 400)
    share = sum(r.harvest for _, r in sent) / len(sent)
    assert 0.25 < share < 0.75


def test_look_alikes_share_what_they_should() -> None:
    apps = _by("red_app_template")
    systems: dict[str, set[str]] = defaultdict(set)
    for i, (acc, fn) in enumerate(apps):
        sent = _drive(acc, fn, 100)
        assert not any(r.harvest for _, r in sent)
        systems[str(i % 3)] |= {str(r.body["messages"][0]["content"]) for _, r in sent}
    assert all(len(s) == 1 for s in systems.values())  # one system prompt per app
    assert len({acc.client_ip for acc, _ in apps}) == len(apps)  # unrelated customers
    students = _by("red_classroom_nat")
    assert len({acc.client_ip for acc, _ in students}) == 1
    first = [_drive(acc, fn, 1)[0] for acc, fn in students]
    assert len({str(r.body["messages"][-1]["content"]) for _, r in first}) == 1
    assert max(t for t, _ in first) - min(t for t, _ in first) < 600
    assert {acc.tier for acc, _ in _by("red_eval_team")} == {"evaluation"}
    ci = [_drive(acc, fn, 1)[0][0] for acc, fn in _by("red_ci_hourly")]
    assert all(t % 3600 < 5 for t in ci)  # on the hour
