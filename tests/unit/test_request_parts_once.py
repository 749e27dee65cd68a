"""A request's prompt parts are read once (issue 13): the inspect stage reads them, and the
request features, the budgets' part and the detection part after the response take them
from there; the values are those each computed on its own before. Equal request features
are one shared instance, and a client stack's hash is made once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.fingerprints import request as request_module
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.hashing import stable_hash64
from gateway.fingerprints.request import (
    FEATURES_REMEMBERED,
    MAX_MESSAGES,
    first_ask_text,
    prompt_parts,
    request_features,
)
from gateway.proxy import inspect as inspect_module
from gateway.proxy.inspect import client_stack

TASK = "A train leaves at 3 pm at 60 km/h; when does it reach the city 150 km away?"
HELLO = [
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "Hello! How can I help?"},
]
CUT = [
    {"role": "assistant", "content": "Step 1: the distance is"},
    {"role": "user", "content": "continue"},
]
BODIES: list[tuple[Any, str]] = [
    ({"model": "m", "messages": [{"role": "user", "content": TASK}]}, "chat"),
    ({"model": "m", "messages": [*HELLO, {"role": "user", "content": TASK}]}, "chat"),
    ({"model": "m", "messages": [*HELLO, {"role": "user", "content": TASK}, *CUT]}, "chat"),
    ({"model": "m", "messages": [{"role": "system", "content": "Be brief."}, *CUT]}, "chat"),
    ({"model": "m", "messages": [{"role": "assistant", "content": "Hi"}]}, "chat"),
    (
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": f"Task {i}: {TASK}"}
                if i % 2 == 0
                else {"role": "assistant", "content": f"Answer {i}: it arrives at 5:30 pm."}
                for i in range(9)
            ],
            "logprobs": True,
            "top_logprobs": 3,
            "reasoning_effort": "high",
        },
        "chat",
    ),
    (
        {
            "model": "m",
            "messages": [
                {"role": "user" if i % 3 else "assistant", "content": f"q{i}"}
                for i in range(MAX_MESSAGES + 7)
            ],
        },
        "chat",
    ),
    ({"model": "m", "messages": "junk"}, "chat"),
    ({"model": "m", "prompt": ["a", TASK], "logprobs": 5}, "completions"),
    ({"model": "m", "input": TASK}, "embeddings"),
    ({"model": "m", "messages": [{"role": "user", "content": TASK}]}, "other"),
    (["not", "a", "body"], "chat"),
]


@pytest.mark.parametrize(("body", "endpoint"), BODIES)
def test_features_from_the_parts_equal_the_features_read_alone(body: Any, endpoint: str) -> None:
    headers = {"x-stainless-retry-count": "2"}
    parts = prompt_parts(body, endpoint)
    alone = request_features(body, endpoint, headers, 7)
    assert request_features(body, endpoint, headers, 7, parts) == alone
    if endpoint == "chat" and isinstance(body, dict) and isinstance(body.get("messages"), list):
        roles = [m.get("role") for m in body["messages"] if m.get("role") != "system"]
        runs = sum(r == "user" and (i == 0 or roles[i - 1] != "user") for i, r in enumerate(roles))
        assert alone.turns == max(runs, 1)  # user messages in a row are one turn


@pytest.mark.parametrize(("body", "endpoint"), BODIES)
def test_the_fingerprint_parts_equal_those_read_again(body: Any, endpoint: str) -> None:
    fp = Fingerprinter()
    parts = prompt_parts(body, endpoint)
    assert fp.fingerprint(body, endpoint, parts=parts) == fp.fingerprint(body, endpoint)
    assert fp.budget_part(body, endpoint, cell=True, parts=parts).print == fp.budget_print(
        body, endpoint, cell=True
    )
    assert first_ask_text(body, endpoint, parts.opened) == first_ask_text(body, endpoint)


def test_the_continuation_and_openers_are_in_the_parts() -> None:
    parts = prompt_parts(BODIES[2][0], "chat")
    assert (parts.pieces, parts.continued, parts.opened, parts.skipped) == (1, 1, 1, 0)
    bare = prompt_parts(BODIES[3][0], "chat")  # a prefill continued: no ask before it
    assert (bare.pieces, bare.continued) == (1, 0)
    assert prompt_parts(BODIES[6][0], "chat").skipped == 7


def test_equal_request_features_are_one_instance() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": TASK}], "max_tokens": 64}
    first = request_features(body, "chat", None, 5)
    again = request_features(json.loads(json.dumps(body)), "chat", None, 5)
    assert again is first
    other = request_features({**body, "max_tokens": 65}, "chat", None, 5)
    assert other is not first and other != first and other.max_tokens == 65
    assert request_features(body, "chat", None, 6) is not first  # another client stack
    assert request_features({**body, "stream": True}, "chat", None, 5).stream is True


def test_the_remembered_features_are_bounded() -> None:
    for i in range(FEATURES_REMEMBERED + 10):
        request_features({"model": "m", "max_tokens": i + 1}, "chat")
    assert len(request_module._FEATURES) <= FEATURES_REMEMBERED


def test_a_client_stack_is_hashed_once_and_equals_its_hash() -> None:
    headers = {"User-Agent": "OpenAI/Python 1.40.0", "X-Stainless-Lang": "python"}
    expected = stable_hash64("OpenAI/Python\x1fpython\x1f", b"dg-client-stack") or 1
    assert client_stack(headers) == expected
    assert ("OpenAI/Python", "python", "") in inspect_module._STACKS
    assert client_stack(headers) == expected
    assert client_stack({}) == 0


def test_a_peer_address_is_parsed_once_without_trusted_proxies() -> None:
    from gateway.auth.client_ip import TrustedProxies, _peer_text, client_ip

    none = TrustedProxies()
    before = _peer_text.cache_info().hits
    for _ in range(3):
        assert client_ip("::ffff:192.0.2.9", {"X-Forwarded-For": "198.51.100.1"}, none) == (
            "192.0.2.9"
        )
    assert _peer_text.cache_info().hits >= before + 2
    assert client_ip("not an address", {}, none) == "not an address"
    trusted = TrustedProxies.parse(["192.0.2.0/24"])
    assert client_ip("192.0.2.9", {"X-Forwarded-For": "198.51.100.1"}, trusted) == "198.51.100.1"


def test_an_empty_retry_count_header_reads_as_none() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": TASK}]}
    assert request_features(body, "chat", {"x-stainless-retry-count": ""}).retry_count == 0
    assert request_features(body, "chat", {"x-stainless-retry-count": " 3 "}).retry_count == 3
    assert request_features(body, "chat", {"x-stainless-retry-count": "x"}).retry_count == 0


def test_long_client_values_are_not_remembered() -> None:
    """What is remembered stays small whatever a client sends: a long model name or a long
    User-Agent is read every time, to the same value."""
    model = "m" * 10_000
    body = {"model": model, "messages": [{"role": "user", "content": TASK}]}
    remembered = len(request_module._FEATURES)
    first = request_features(body, "chat")
    assert len(request_module._FEATURES) == remembered  # not put (a put adds one or clears)
    assert first.model == model and request_features(body, "chat") == first
    agent = "x" * 5_000
    assert client_stack({"User-Agent": agent}) == (
        stable_hash64(f"{agent}\x1f\x1f", b"dg-client-stack") or 1
    )
    assert (agent, "", "") not in inspect_module._STACKS
