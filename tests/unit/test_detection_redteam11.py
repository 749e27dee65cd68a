"""Red-team round 11's scenarios are what their names say (no gateway: each behaviour is
driven with every request answered 200)."""

from __future__ import annotations

import base64
import codecs

from redteam_accounts import check_builds, plan_accounts, users

from loadtest.detection.context import Context
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam11 import RED11_NONE, RED11_QUICK, Red11Plan, populate11
from loadtest.detection.redteam11_harvest import CIPHER_ASKS, SPLIT_ASKS, STEPS
from loadtest.detection.redteam11_personas import PASTE_ASKS, PASTE_STACK
from loadtest.detection.scenarios import QUICK, BehaviourFn
from loadtest.detection.traffic import Account, Request

CTX = Context(pools=load_pools("tuning", (), ()), start=0.0, days=14.0, cap=400, scale=1.0)
STRATEGIES = {"red11_cipher", "red11_split_turn"}
PERSONAS = {"red11_paste_chat"}


def _plan(red: Red11Plan) -> list[tuple[Account, BehaviourFn]]:
    return plan_accounts(populate11, red, 11)


def _sent(red: Red11Plan) -> list[list[tuple[float, Request]]]:
    return [drive(acc, fn, CTX, 20_000) for acc, fn in _plan(red)]


def test_plans_build_with_red11_names_and_sizes() -> None:
    assert not _plan(RED11_NONE)
    check_builds("red11_", STRATEGIES, PERSONAS)


def test_quick_share_stays_a_few_hundred_requests() -> None:
    ctx = Context(pools=CTX.pools, start=0.0, days=QUICK.days, cap=QUICK.cap, scale=QUICK.scale)
    total = sum(len(drive(acc, fn, ctx, 5000)) for acc, fn in _plan(RED11_QUICK))
    assert 80 < total < 600


def test_each_strategy_account_takes_its_planned_harvest_in_time_order() -> None:
    for acc, fn in _plan(Red11Plan(encoders=2, encoded=25, splitters=2, split=25)):
        sent = drive(acc, fn, CTX, 20_000)
        assert sum(r.harvest for _, r in sent) == acc.planned == len(sent), acc.name
        times = [t for t, _ in sent]
        assert times == sorted(times)


def test_cipher_sends_each_task_once_encoded_after_one_ask() -> None:
    kinds = []
    for sent in _sent(Red11Plan(encoders=2, encoded=30)):
        asks = {users(r)[0].split("\n\n", 1)[0] for _, r in sent}
        assert len(asks) == 1
        (ask,) = asks
        kind = "base64" if "base64" in ask else "ROT13"
        assert ask in {a.format(kind=kind) for a in CIPHER_ASKS}
        decoded = []
        for _, r in sent:
            code = users(r)[0].split("\n\n", 1)[1]
            plain = (
                base64.b64decode(code).decode()
                if kind == "base64"
                else codecs.decode(code, "rot13")
            )
            task, steps = plain.rsplit("\n\n", 1)
            assert task in CTX.pools.harvest and steps in STEPS
            assert task[:40] not in users(r)[0] and "step" not in users(r)[0]
            decoded.append(task)
        assert len(set(decoded)) == 30
        kinds.append(kind)
    assert kinds == ["base64", "ROT13"]


def test_split_turn_sends_the_task_then_a_short_ask_as_two_user_messages() -> None:
    (sent,) = _sent(Red11Plan(splitters=1, split=30))
    for _, r in sent:
        roles = [m["role"] for m in r.body["messages"]]
        assert roles == ["user", "user"]
        first, last = users(r)
        task, steps = first.rsplit("\n\n", 1)
        assert task in CTX.pools.harvest and steps in STEPS and last in SPLIT_ASKS
    assert len({users(r)[0].rsplit("\n\n", 1)[0] for _, r in sent}) == 30


def test_paste_chat_sends_a_pasted_text_then_a_question_from_its_front_end() -> None:
    (sent,) = _sent(Red11Plan(pasters=1))
    assert len(sent) > 30 and not any(r.harvest for _, r in sent)
    assert all(r.headers == PASTE_STACK for _, r in sent)
    for _, r in sent:
        pasted, question, *_ = users(r)
        assert pasted[:200] in "".join(CTX.pools.benign) and question in PASTE_ASKS
    assert any(len(users(r)) > 2 for _, r in sent)  # follow-ups
