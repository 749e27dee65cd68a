"""Continuations ("continue" after a cut answer) are the ask they continue: not a follow-up
for shape, not a new topic for coverage, and the trace's max_tokens is the sum of its pieces
(gateway.fingerprints.continuation, gateway.detection.observation)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import is_new_ask, observation, trace_tokens
from gateway.detection.types import EntityState, Finding
from gateway.fingerprints.continuation import continuation, is_continue_form
from gateway.fingerprints.fingerprint import Fingerprinter

POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)
ASK = "A train leaves at 3 pm at 60 km/h; when has it gone 150 km? Think it through step by step."


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def _chat(ask: str, *later: str, max_tokens: int = 150) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": ask}]
    for i, text in enumerate(later):
        messages += [
            {"role": "assistant", "content": f"Step {i + 1}: the answer so far."},
            {"role": "user", "content": text},
        ]
    return {"model": "gpt-x", "messages": messages, "max_tokens": max_tokens}


@pytest.mark.parametrize(
    "text",
    [
        "continue", "Continue.", "go on", "keep going", "continue from where you stopped",
        "ok, continue", "Please continue!", "continue writing where you left off", "weiter",
        "Mach weiter", "continúa", "continuez", "продолжай", "继续", "続けて", "계속", "devam et",
    ],
)  # fmt: skip
def test_continuation_forms(text: str) -> None:
    assert is_continue_form(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I continue a for loop in Python when a value is missing?",
        "continue with the next question",
        "ok, and then?",
        "got it. what next?",
        "Can you explain that more simply?",
        "go on, why is that?",
        "ok thanks",
        "",
    ],
)
def test_real_asks_are_no_continuation_forms(text: str) -> None:
    assert not is_continue_form(text)


def test_the_chain_counts_the_pieces_back_to_the_ask() -> None:
    body = _chat(ASK, "continue", "go on", "keep going")
    assert continuation(body["messages"]).pieces == 3
    assert continuation(body["messages"]).ask == 0
    # a real follow-up ends the chain: it is a new turn, and what follows continues it
    body = _chat(ASK, "Why is that the case?", "continue")
    assert (continuation(body["messages"]).pieces, continuation(body["messages"]).ask) == (1, 2)
    assert continuation(_chat(ASK, "Why is that the case?")["messages"]).pieces == 0
    assert continuation(_chat(ASK)["messages"]).pieces == 0
    # "continue" with no answer before it, or after a tool call, is no continuation
    assert continuation([{"role": "user", "content": "continue"}]).pieces == 0
    tool = [
        {"role": "user", "content": ASK},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "1"}]},
        {"role": "user", "content": "continue"},
    ]
    assert continuation(tool).pieces == 0


def test_features_and_fingerprint_of_a_continuation(fp: Fingerprinter) -> None:
    first = _chat(ASK)
    pieces = [_chat(ASK, *["continue"] * k) for k in (1, 2, 3)]
    assert [fp.features(b, "chat").continued for b in [first, *pieces]] == [0, 1, 2, 3]
    assert fp.features(_chat(ASK, "Why is that the case?"), "chat").continued == 0
    ask = fp.fingerprint(first, "chat")
    prints = [fp.fingerprint(b, "chat") for b in pieces]
    for p in prints:  # the ask it continues: its template, topic and wording
        assert (p.skeleton, p.cell, p.frame) == (ask.skeleton, ask.cell, ask.frame)
        assert p.elicitation == ask.elicitation > 0
    # each piece its own exact hash: a piece is not the ask sent again
    assert len({ask.exact, *(p.exact for p in prints)}) == 4
    # the request path charges what it always did: the novelty cell of the last user turn
    assert fp.budget_print(pieces[0], "chat", cell=True).cell == fp.cell_of("continue")


def test_a_continuation_is_a_single_turn_ask_with_the_sum_of_its_tokens(
    fp: Fingerprinter,
) -> None:
    piece = fp.features(_chat(ASK, "continue", "continue"), "chat")
    assert piece.turns == 3 and piece.continued == 2
    assert is_new_ask(piece) and trace_tokens(piece) == 450
    obs = observation(fp.fingerprint(_chat(ASK, "continue", "continue"), "chat"), piece, POLICY, 0)
    assert obs.single_turn and obs.follow_up  # one ask: single-turn, not a new topic
    first = fp.fingerprint(_chat(ASK), "chat")
    first_obs = observation(first, fp.features(_chat(ASK), "chat"), POLICY, 0)
    assert first_obs.elicitation == pytest.approx(first.elicitation * 150 / 256)
    assert obs.elicitation == pytest.approx(first.elicitation)  # 450 tokens: no discount
    # a continued follow-up is still a follow-up
    later = fp.features(_chat(ASK, "Why is that the case?", "continue"), "chat")
    assert not is_new_ask(later)
    assert trace_tokens(replace(later, max_tokens=None)) is None


async def _stream(fp: Fingerprinter, bodies: list[dict[str, Any]]) -> EntityState:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    state = EntityState(entity="a:x")
    for body in bodies:
        clock.advance(30.0)
        features = fp.features(body, "chat")
        obs = observation(fp.fingerprint(body, "chat"), features, POLICY, clock.now())
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    return state


def _family(state: EntityState, name: str) -> Finding:
    return next(f for f in detectors.assess(state, CTX) if f.family == name)


async def test_chunked_asks_keep_their_shape_and_topics(fp: Fingerprinter) -> None:
    tasks = [f"Task {i}: a farmer has {i + 7} cows and {i * 3 + 2} hens; {ASK}" for i in range(40)]
    chunked = [_chat(t, *["continue"] * k) for t in tasks for k in range(4)]
    talked = [_chat(t, *["Why is that the case?"] * k) for t in tasks for k in range(4)]
    state = await _stream(fp, chunked)
    assert sum(state.histogram) == 40  # one topic per task, not one per piece
    assert _family(state, "shape").score > 0.9  # continued asks are single-turn asks
    other = await _stream(fp, talked)
    assert sum(other.histogram) == 40
    assert _family(other, "shape").score == 0.0  # real follow-ups are a conversation
