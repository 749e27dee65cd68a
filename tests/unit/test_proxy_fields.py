"""Types of the request fields the gateway reads: what OpenAI accepts passes, the rest is 400."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidRequest
from gateway.proxy.fields import check_fields

VALID: list[dict[str, Any]] = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
    {"messages": [{"role": "assistant", "content": None, "tool_calls": []}]},
    {"model": "m", "stream": False, "stream_options": None, "max_tokens": None, "n": 1},
    {"model": "m", "stream": True, "stream_options": {"include_usage": True}, "max_tokens": 0},
    {"model": "m", "max_completion_tokens": 4096, "unknown_field": {"passes": ["through"]}},
    {"model": "m", "messages": "not checked outside chat"},  # completions: upstream decides
]


@pytest.mark.parametrize("payload", VALID)
def test_what_openai_accepts_passes(payload: dict[str, Any]) -> None:
    endpoint = "completions" if payload.get("messages") == "not checked outside chat" else "chat"
    check_fields(payload, endpoint)


@pytest.mark.parametrize(
    ("payload", "param", "got"),
    [
        ({"model": 5}, "model", "an integer"),
        ({"stream": "yes"}, "stream", "a string"),
        ({"stream": 1}, "stream", "an integer"),
        ({"stream_options": "usage"}, "stream_options", "a string"),
        ({"max_tokens": "10"}, "max_tokens", "a string"),
        ({"max_tokens": True}, "max_tokens", "a boolean"),
        ({"max_tokens": 1.5}, "max_tokens", "a number"),
        ({"n": [2]}, "n", "an array"),
        ({"messages": {"role": "user"}}, "messages", "an object"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content", "an integer"),
        ({"messages": [{"content": "x"}]}, "messages[0].role", "null"),
        ({"messages": ["x"]}, "messages[0]", "a string"),
    ],
)
def test_a_wrong_type_is_invalid_type_naming_the_field(
    payload: dict[str, Any], param: str, got: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields(payload, "chat")
    assert raised.value.status == 400
    assert raised.value.code == "invalid_type"
    assert raised.value.param == param
    assert f"but got {got} instead" in str(raised.value)


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens", "max_output_tokens", "n"])
def test_a_negative_count_names_the_value(name: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields({name: -3}, "chat")
    assert (raised.value.status, raised.value.code, raised.value.param) == (
        400,
        "invalid_type",
        name,
    )
    assert str(raised.value) == (
        f"Invalid '{name}': integer below minimum value. Expected a value >= 0, but got -3 instead."
    )
