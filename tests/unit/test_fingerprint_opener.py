"""Openers: a pleasantry exchange ("hi" / "Of course!") before the first real ask is not a
turn: the ask is single-turn for shape, ask cohorts and newcomer cohorts
(gateway.fingerprints.opener, gateway.detection.observation, gateway.detection.cohort)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.detection.cohort import cohort_key
from gateway.detection.observation import is_new_ask
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.opener import is_pleasantry, opener_exchanges

ASK = "A train leaves at 3 pm at 60 km/h; when has it gone 150 km? Think it through step by step."


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def _chat(*turns: str, system: str = "") -> dict[str, Any]:
    """Alternating user / assistant texts, starting with the user."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for i, text in enumerate(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return {"model": "gpt-x", "messages": messages, "max_tokens": 600}


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hello!",
        "hey, quick favour",
        "are you there?",
        "I have a few questions for you",
        "hello! can you help me with some homework?",
        "good morning",
        "Hola, ¿puedes ayudarme?",
        "Bonjour !",
        "Guten Morgen, kannst du mir helfen?",
        "привет",
        "Здравствуйте, у меня есть вопрос",
        "你好",
        "こんにちは",
        "안녕하세요",
        "merhaba",
        "Xin chào",
    ],
)
def test_pleasantries(text: str) -> None:
    assert is_pleasantry(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "hi, what is 17 times 23?",
        "Can you help me with my essay on Napoleon?",
        "hello, explain recursion",
        "why?",
        "thanks, and what about the second one?",
        "Wie spät ist es in Tokio?",
        "2+2?",
        "",
        "hi " * 30,
    ],
)
def test_real_questions_are_not_pleasantries(text: str) -> None:
    assert not is_pleasantry(text)


def test_opener_then_ask_is_a_first_ask(fp: Fingerprinter) -> None:
    body = _chat("hi", "Of course! What would you like help with?", ASK)
    features = fp.features(body, "chat")
    assert features.turns == 2 and features.opened == 1
    assert is_new_ask(features)
    assert fp.fingerprint(body, "chat").exact == fp.fingerprint(_chat(ASK), "chat").exact


def test_system_prompt_and_two_openers(fp: Fingerprinter) -> None:
    body = _chat("hi", "Hi! Sure.", "are you there?", "Yes, I'm here.", ASK, system="Be kind.")
    features = fp.features(body, "chat")
    assert (features.turns, features.opened) == (3, 2)
    assert is_new_ask(features)


def test_opener_ask_and_follow_up_is_a_follow_up(fp: Fingerprinter) -> None:
    body = _chat("hi", "Hi! Sure, go ahead.", ASK, "The answer is 5:30 pm.", "why 2.5 hours?")
    features = fp.features(body, "chat")
    assert features.opened == 1
    assert not is_new_ask(features)


def test_real_first_question_keeps_the_follow_up(fp: Fingerprinter) -> None:
    """Honest negative: a short real question answered briefly, then another question."""
    body = _chat("What is the capital of France?", "Paris.", "and of Italy?")
    features = fp.features(body, "chat")
    assert features.opened == 0
    assert not is_new_ask(features)


def test_long_reply_is_no_stock_reply(fp: Fingerprinter) -> None:
    body = _chat("hi", "Hello! " + "Here is a long story about trains. " * 10, ASK)
    assert fp.features(body, "chat").opened == 0


def test_greeting_alone_is_its_own_ask(fp: Fingerprinter) -> None:
    assert fp.features(_chat("hi"), "chat").opened == 0
    body = _chat("hi", "Hi! What can I do?", "hello")
    features = fp.features(body, "chat")
    assert features.opened == 1 and is_new_ask(features)


def test_tool_call_reply_is_no_opener() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "1"}]},
        {"role": "user", "content": ASK},
    ]
    assert opener_exchanges(messages) == 0


def test_cohort_key_sees_the_ask_after_an_opener(fp: Fingerprinter) -> None:
    single = _chat(ASK)
    opened = _chat("hello! can you help me with some homework?", "Happy to help.", ASK)
    follow = _chat("Why do trains run on time in Japan?", "Planning.", ASK)
    key = cohort_key(fp.fingerprint(single, "chat"), fp.features(single, "chat"))
    assert key != 0
    # the same ask after an opener: a cohort (not a follow-up), its population's own
    opened_key = cohort_key(fp.fingerprint(opened, "chat"), fp.features(opened, "chat"))
    assert opened_key not in (0, key)
    other = _chat("hi", "Of course! What would you like help with?", ASK)
    assert cohort_key(fp.fingerprint(other, "chat"), fp.features(other, "chat")) == opened_key
    assert cohort_key(fp.fingerprint(follow, "chat"), fp.features(follow, "chat")) == 0
