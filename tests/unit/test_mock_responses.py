"""The mock's Responses API (``POST /v1/responses``): the whole ``response``, the stream of
typed events, ``max_output_tokens``, the parameters it refuses and the hooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.clock import FakeClock
from gateway.mock import build_mock_app

PATH = "/v1/responses"
SEQUENCE = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 4,
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(build_mock_app(clock=FakeClock(1.7e9), chunks=4))) as c:
        yield c


def _body(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "input": "Explain how tides work.", **extra}


async def _events(
    client: TestClient[Any, Any], body: dict[str, Any], **headers: str
) -> list[tuple[str, Any]]:
    async with client.post(PATH, json=body | {"stream": True}, headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        text = await resp.text()
    events = []
    for block in text.split("\n\n"):
        if block:
            name, data = block.split("\n")
            assert name.startswith("event: ") and data.startswith("data: ")
            events.append((name[7:], json.loads(data[6:])))
    return events


async def test_whole_response_shape_and_usage(client: TestClient[Any, Any]) -> None:
    async with client.post(PATH, json=_body()) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["object"] == "response" and answer["status"] == "completed"
    message = answer["output"][0]
    assert message["type"] == "message" and message["role"] == "assistant"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    # the same text and token counts as the chat answer to the same prompt
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": _body()["input"]}]}
    async with client.post("/v1/chat/completions", json=chat) as resp:
        same = await resp.json()
    assert message["content"][0]["text"] == same["choices"][0]["message"]["content"]
    assert usage["input_tokens"] == same["usage"]["prompt_tokens"]
    assert usage["output_tokens"] == same["usage"]["completion_tokens"]


async def test_stream_is_the_real_event_sequence(client: TestClient[Any, Any]) -> None:
    events = await _events(client, _body())
    assert [name for name, _ in events] == SEQUENCE
    assert all(data["type"] == name for name, data in events)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    text = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    assert events[8][1]["text"] == text
    final = events[-1][1]["response"]
    assert final["output"][0]["content"][0]["text"] == text
    async with client.post(PATH, json=_body()) as resp:
        whole = await resp.json()
    assert final["usage"] == whole["usage"] and events[0][1]["response"]["usage"] is None


async def test_max_output_tokens_cuts_the_answer(client: TestClient[Any, Any]) -> None:
    async with client.post(PATH, json=_body(max_output_tokens=16)) as resp:
        answer = await resp.json()
    assert answer["status"] == "incomplete" and answer["usage"]["output_tokens"] == 16
    assert answer["incomplete_details"] == {"reason": "max_output_tokens"}
    events = await _events(client, _body(max_output_tokens=16))
    assert events[-1][0] == "response.incomplete"
    assert events[-1][1]["response"]["usage"]["output_tokens"] == 16


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"max_tokens": 50}, "max_tokens"),
        ({"max_completion_tokens": 50}, "max_completion_tokens"),
        ({"n": 2}, "n"),
        ({"stream_options": {"include_usage": True}}, "stream_options.include_usage"),
        ({"max_output_tokens": 15}, "max_output_tokens"),
        ({"input": []}, "input"),
    ],
)
async def test_what_the_responses_api_refuses(
    client: TestClient[Any, Any], extra: dict[str, Any], param: str
) -> None:
    async with client.post(PATH, json=_body(**extra)) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["param"] == param


async def test_hooks_and_message_items(client: TestClient[Any, Any]) -> None:
    events = await _events(client, _body(), **{"x-mock-no-usage": "1", "x-mock-chunks": "2"})
    assert [n for n, _ in events].count("response.output_text.delta") == 2
    assert events[-1][1]["response"]["usage"] is None
    items = [{"role": "user", "content": [{"type": "input_text", "text": "Explain tides."}]}]
    async with client.post(PATH, json=_body(input=items, instructions="Be brief.")) as resp:
        assert resp.status == 200 and (await resp.json())["usage"]["input_tokens"] > 0


async def test_previous_response_id_names_a_stored_answer(client: TestClient[Any, Any]) -> None:
    async with client.post(PATH, json=_body()) as resp:
        first = await resp.json()
    async with client.post(PATH, json=_body(previous_response_id=first["id"])) as resp:
        assert resp.status == 200
        second = await resp.json()
    assert second["previous_response_id"] == first["id"] and second["id"] != first["id"]
    events = await _events(client, _body(previous_response_id=second["id"]))
    assert events[0][1]["response"]["previous_response_id"] == second["id"]
    for made_up in ("resp_0123456789abcdef01234567", 7):
        async with client.post(PATH, json=_body(previous_response_id=made_up)) as resp:
            assert resp.status == 400
            error = (await resp.json())["error"]
        assert error["code"] == "previous_response_not_found"
        assert error["param"] == "previous_response_id" and error["type"] == "invalid_request_error"
    async with client.post(PATH, json=_body(store=False)) as resp:
        unstored = await resp.json()
    async with client.post(PATH, json=_body(previous_response_id=unstored["id"])) as resp:
        assert resp.status == 400  # "store": false keeps nothing to continue


def test_stored_responses_forget_the_oldest() -> None:
    from gateway.mock.responses import StoredResponses

    stored = StoredResponses(size=2)
    for ident in ("a", "b", "c"):
        stored.keep(ident, b"{}")
    assert stored.previous_of(b'{"previous_response_id": "c"}') == "c"
    assert stored.previous_of(b'{"previous_response_id": null}') is None
    with pytest.raises(Exception, match="not found"):
        stored.previous_of(b'{"previous_response_id": "a"}')
