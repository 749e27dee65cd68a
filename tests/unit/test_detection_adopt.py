"""Conversations taken over: a request later in a conversation carries the conversation's
identity (its first real ask's exact hash and cell); an account that sends pieces of
conversations it never started is not read as an honest multi-turn user (shape), and the
conversations it takes over are its new topics (coverage). An honest user continuing its
own conversations keeps its follow-ups (gateway.fingerprints.fingerprint,
gateway.detection.observation, gateway.detection.memory_state, gateway.detection.detectors).
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.types import EntityState
from gateway.fingerprints.fingerprint import Fingerprinter

POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)
ASKS = [
    f"A tank holds {n} litres and leaks {n % 7 + 2} litres an hour; after how many hours is "
    f"it a third full? Work it out step by step, case {n}."
    for n in range(40, 160)
]


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def _chat(*turns: str) -> dict[str, Any]:
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for i, text in enumerate(turns)
    ]
    return {"model": "gpt-x", "messages": messages, "max_tokens": 400}


PIECE = "First, name what the problem gives and what it asks for."


def test_thread_is_the_first_asks_identity(fp: Fingerprinter) -> None:
    ask = fp.fingerprint(_chat(ASKS[0]), "chat")
    assert ask.thread == 0  # the request is the first ask
    for body in (
        _chat(ASKS[0], PIECE, "go on"),  # a continuation
        _chat(ASKS[0], PIECE, "go on", PIECE, "finish it off"),  # a follow-up
        _chat("hi", "Of course!", ASKS[0], PIECE, "why that order?"),  # after an opener
    ):
        later = fp.fingerprint(body, "chat")
        assert (later.thread, later.thread_cell) == (ask.exact, ask.cell)
    assert fp.fingerprint(_chat("hi", "Of course!", ASKS[0]), "chat").thread == 0
    pictured = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    body = _chat(ASKS[0], PIECE, "go on")
    body["messages"][0]["content"] = [{"type": "text", "text": ASKS[0]}, pictured]
    assert fp.fingerprint(body, "chat").thread == 0  # its exact hash mixes the picture in


async def _stream(fp: Fingerprinter, bodies: list[dict[str, Any]]) -> EntityState:
    clock = FakeClock(1_800_000_000.0)
    store = MemoryStateStore(clock)
    state = EntityState("a:x")
    for body in bodies:
        clock.advance(60.0)
        obs = observation(fp.fingerprint(body, "chat"), fp.features(body, "chat"), POLICY, 0)
        state = await store.observe("a:x", obs, clock.now(), window=86400.0, half_life=21600.0)
    return state


async def test_a_relay_member_is_no_multi_turn_user(fp: Fingerprinter) -> None:
    """A relay member: one conversation in three it starts, the others it continues."""
    bodies = []
    for k, ask in enumerate(ASKS[:90]):
        j = k % 3
        turns = [ask, PIECE, "go on", PIECE, "finish it off"][: 2 * j + 1]
        bodies.append(_chat(*turns))
    state = await _stream(fp, bodies)
    assert state.share("single") == pytest.approx(2 / 3, abs=0.05)
    assert state.share("adopt") == pytest.approx(1 / 3, abs=0.05)
    assert detectors.shape(state, CTX).score > 0.9
    # every conversation touched is a topic (one 14-bit collision with an own exact hash)
    assert sum(state.histogram) >= 88


async def test_an_honest_user_keeps_its_follow_ups(fp: Fingerprinter) -> None:
    """Honest negative: the same asks, each followed up by the user who asked it."""
    bodies = []
    for ask in ASKS[:40]:
        bodies += [_chat(ask), _chat(ask, PIECE, "why that order?")]
    state = await _stream(fp, bodies)
    assert state.counter("adopt") == 0
    assert state.share("single") == pytest.approx(0.5, abs=0.05)
    assert detectors.shape(state, CTX).score == 0
    assert sum(state.histogram) == 40  # follow-ups are no new topics


async def test_an_app_with_some_conversations_begun_elsewhere_keeps_its_shape(
    fp: Fingerprinter,
) -> None:
    """Honest negative: three in four single-turn asks, a follow-up on one in four, and of
    the follow-ups one in three on a conversation begun elsewhere (its first turn never
    sent here): the follow-ups are mostly its own, so shape stays 0."""
    bodies = []
    for k, ask in enumerate(ASKS[:96]):
        if k % 4 != 3:
            bodies.append(_chat(ask))
        elif k % 12 == 3:
            bodies.append(_chat(ASKS[100 + k % 20], PIECE, "why that order?"))  # begun elsewhere
        else:
            bodies.append(_chat(ASKS[k - 1], PIECE, "why that order?"))  # its own
    state = await _stream(fp, bodies)
    assert state.counter("adopt") > 0
    assert detectors.shape(state, CTX).score == 0
