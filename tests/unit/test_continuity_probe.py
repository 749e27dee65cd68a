"""The conversation continuity probe (round 20b) computes what its table says."""

from __future__ import annotations

import math
from typing import Any

from loadtest.continuity_probe import Event, Probed, measure, mock_answer, run, table
from loadtest.detection.pace import chat
from loadtest.detection.traffic import Request


def _conv(first: str, *rest: str) -> dict[str, Any]:
    """A chat whose assistant turns are ``rest``'s odd items (user turns between)."""
    messages = [{"role": "user", "content": first}]
    for i, text in enumerate(rest):
        messages.append({"role": "assistant" if i % 2 == 0 else "user", "content": text})
    return {"model": "m", "messages": messages}


def test_turns_never_served_to_the_account_or_to_anyone() -> None:
    events = [
        Event(0.0, "honest", _conv("q"), "A1"),
        Event(1.0, "honest", _conv("q", "A1", "more"), "A2"),
        Event(2.0, "copier", _conv("p", "A2", "more"), "B1"),  # served, but to another account
        Event(3.0, "faker", _conv("r", "made up", "more"), "C1"),
        Event(4.0, "faker", _conv("s"), "C2"),
        Event(5.0, "faker", _conv("s", "C2", "more"), "C3"),  # a second conversation, served
    ]
    stats = measure(events, recur=10)
    assert set(stats) == {"honest", "copier", "faker"}  # single-turn-only accounts: none
    assert stats["honest"]["own"] == 0.0 and stats["honest"]["multi"] == 1.0
    assert stats["copier"]["own"] == 1.0 and stats["copier"]["any"] == 0.0
    assert stats["faker"]["own"] == 0.5 and stats["faker"]["any"] == 0.5
    assert stats["faker"]["conv"] == 0.5  # conversations "r" (unserved) and "s" (served)


def test_recurring_turns_are_left_out_of_fewshot() -> None:
    template = [
        Event(float(i), "app", _conv(f"q{i}", "EXAMPLE", f"task {i}"), "x") for i in range(3)
    ]
    stats = measure(template, recur=3)
    assert stats["app"]["own"] == 1.0
    assert math.isnan(stats["app"]["fewshot"])  # only the recurring example: nothing left
    assert measure(template, recur=4)["app"]["fewshot"] == 1.0


def test_the_table_ranges_and_auc() -> None:
    accounts = [Probed("h", "strategy", "harvest"), Probed("b", "persona", "benign")]
    stats = {
        "h": {"multi": 2.0, "own": 1.0, "any": 1.0, "conv": 1.0, "fewshot": math.nan},
        "b": {"multi": 3.0, "own": 0.0, "any": 0.0, "conv": 0.0, "fewshot": 0.0},
    }
    lines = table(accounts, stats, named=["strategy"])
    assert "| own | 1.00 .. 1.00 | 0.00 .. 0.00 | yes | 1/1 | 1.00 | 1.00 |" in lines
    assert "| fewshot | - | 0.00 .. 0.00 | no | 0/1 | nan | nan |" in lines


def test_the_offline_answer_is_the_mocks_and_honest_kit_clients_resend_it() -> None:
    one, other = Request(chat(["why is the sky blue"])), Request(chat(["why is grass green"]))
    assert mock_answer(one) == mock_answer(one) != mock_answer(other)
    assert len(mock_answer(one).split()) > 30  # the mock's 64-token answer, not a stub
    accounts, events = run("tuning", ["tutoring_app", "red_solo_mimic"], limit=60)
    stats = measure(events)
    honest = [stats[a.name]["own"] for a in accounts if a.role == "benign" and a.name in stats]
    faking = [stats[a.name]["own"] for a in accounts if a.role == "harvest" and a.name in stats]
    assert honest and faking
    assert max(honest) == 0.0 and min(faking) == 1.0
    _, as_sent = run("tuning", ["tutoring_app"], limit=60, as_sent=True)
    assert {s["own"] for s in measure(as_sent).values()} == {1.0}  # every history a stub
