"""Honest kit clients resend the answers they were served (loadtest.detection.continuity)."""

from __future__ import annotations

from typing import Any

from loadtest.detection.continuity import (
    KEEPS_SYNTHETIC,
    ServedAnswers,
    answer_text,
    resends_served,
)
from loadtest.detection.pace import ASSISTANT_STUB, chat
from loadtest.detection.traffic import Account, Request


def _acc(scenario: str, role: str = "benign") -> Account:
    return Account("a", scenario, role, 1, "10.0.0.1")  # type: ignore[arg-type]


def _contents(request: Request) -> list[Any]:
    return [m["content"] for m in request.body["messages"]]


def test_a_follow_up_carries_the_answer_served_for_its_history() -> None:
    served = ServedAnswers()
    first = Request(chat(["why is the sky blue"], system="be brief"))
    served.record("a", first, "Because of scattering.")
    follow = served.resend("a", Request(chat(["why is the sky blue", "and at sunset?"])))
    assert _contents(follow) == ["why is the sky blue", "Because of scattering.", "and at sunset?"]
    served.record("a", follow, "Longer paths.")
    third = served.resend("a", Request(chat(["why is the sky blue", "and at sunset?", "ok"])))
    assert _contents(third)[1::2] == ["Because of scattering.", "Longer paths."]


def test_histories_the_account_was_not_served_stay_as_written() -> None:
    served = ServedAnswers()
    served.record("a", Request(chat(["one"])), "answer one")
    other_account = served.resend("b", Request(chat(["one", "two"])))
    never_sent = served.resend("a", Request(chat(["zero", "two"])))
    assert _contents(other_account)[1] == ASSISTANT_STUB
    assert _contents(never_sent)[1] == ASSISTANT_STUB
    tool_call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}
    body = {"model": "m", "messages": [{"role": "user", "content": "one"}, tool_call]}
    assert served.resend("a", Request(body)).body == body


def test_memory_per_account_is_bounded() -> None:
    served = ServedAnswers(per_account=2)
    for q in ("q1", "q2", "q3"):
        served.record("a", Request(chat([q])), f"answer {q}")
    assert _contents(served.resend("a", Request(chat(["q1", "more"]))))[1] == ASSISTANT_STUB
    assert _contents(served.resend("a", Request(chat(["q3", "more"]))))[1] == "answer q3"


def test_who_resends_and_the_answer_text() -> None:
    assert resends_served(_acc("tutoring_app"))
    assert not resends_served(_acc("red_solo_mimic", "harvest"))
    assert all(not resends_served(_acc(name)) for name in KEEPS_SYNTHETIC)
    assert answer_text({"choices": [{"message": {"content": "hi"}}]}) == "hi"
    assert answer_text({"choices": [{"text": "legacy"}]}) == "legacy"
    assert answer_text({"error": {}}) == ""
