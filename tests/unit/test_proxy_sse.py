"""SseTap: Chat Completions chunks relayed as before, the Responses API's typed events read
for usage and streamed characters, never dropped."""

from __future__ import annotations

import json

from gateway.apis import CHAT_COMPLETIONS, RESPONSES, api_of
from gateway.proxy.sse import SseTap, delta_chars, event_fields
from gateway.proxy.usage import Usage


def _typed(kind: str, **fields: object) -> bytes:
    data = json.dumps({"type": kind, **fields}, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n".encode()


def _responses_stream(text_pieces: list[str], usage: dict[str, int] | None) -> bytes:
    head = {"id": "resp_1", "object": "response", "status": "in_progress", "usage": None}
    events = [
        _typed("response.created", sequence_number=0, response=head),
        _typed("response.in_progress", sequence_number=1, response=head),
        _typed("response.output_item.added", sequence_number=2, output_index=0, item={}),
    ]
    for i, piece in enumerate(text_pieces):
        events.append(
            _typed(
                "response.output_text.delta",
                sequence_number=3 + i,
                item_id="msg_1",
                output_index=0,
                content_index=0,
                delta=piece,
                logprobs=[],
            )
        )
    text = "".join(text_pieces)
    events.append(_typed("response.output_text.done", text=text, logprobs=[]))
    done = {**head, "status": "completed", "usage": usage}
    events.append(_typed("response.completed", response=done))
    return b"".join(events)


def _relay(tap: SseTap, raw: bytes, step: int) -> bytes:
    out = b"".join(tap.feed(raw[i : i + step]) for i in range(0, len(raw), step))
    return out + tap.flush()


def test_the_responses_path_is_its_own_api() -> None:
    assert api_of("/v1/responses", "/v1") is RESPONSES
    assert api_of("/v1/chat/completions", "/v1") is CHAT_COMPLETIONS
    assert RESPONSES.kind == "chat" and RESPONSES.typed_events and not RESPONSES.usage_chunk
    # a background response read again as a stream (GET /v1/responses/{id}?stream=true)
    stored = api_of("/v1/responses/resp_123", "/v1")
    assert stored.typed_events and stored.kind == "other"
    assert api_of("/v1/models", "/v1").kind == "other" and not api_of("/v1/x", "/v1").typed_events


def test_a_responses_stream_records_the_completed_usage_and_drops_nothing() -> None:
    usage = {"input_tokens": 12, "output_tokens": 34, "total_tokens": 46}
    raw = _responses_stream(["Hello", ", wörld", ' "quoted"\n'], usage)
    for step in (1, 7, 64, len(raw)):
        tap = SseTap(drop_usage_chunk=True, typed_events=True)  # never drops typed events
        assert _relay(tap, raw, step) == raw
        assert tap.usage == Usage(12, 34)
        assert tap.content_chars == len('Hello, wörld "quoted"\n')


def test_a_responses_stream_without_usage_counts_its_deltas() -> None:
    raw = _responses_stream(["abcd"] * 10, usage=None)
    cut = raw[: raw.index(b"event: response.output_text.done")]  # the client went away
    for stream in (raw, cut):
        tap = SseTap(drop_usage_chunk=False, typed_events=True)
        assert _relay(tap, stream, 50) == stream
        assert tap.usage is None and tap.content_chars == 40


def test_incomplete_and_failed_responses_carry_usage_too() -> None:
    for kind in ("response.incomplete", "response.failed"):
        tap = SseTap(drop_usage_chunk=False, typed_events=True)
        event = _typed(kind, response={"usage": {"input_tokens": 3, "output_tokens": 16}})
        assert tap.feed(event) == event and tap.usage == Usage(3, 16)


def test_a_responses_stream_gives_its_response_id_from_the_terminal_event() -> None:
    tap = SseTap(drop_usage_chunk=False, typed_events=True)
    tap.feed(_typed("response.created", response={"id": "resp_early", "usage": None}))
    assert tap.response_id == ""  # only the terminal event's is read
    done = {"id": "resp_77", "usage": {"input_tokens": 3, "output_tokens": 4}}
    tap.feed(_typed("response.completed", response=done))
    assert tap.response_id == "resp_77" and tap.usage == Usage(3, 4)
    odd = SseTap(drop_usage_chunk=False, typed_events=True)
    odd.feed(_typed("response.completed", response={"id": 5}))
    odd.feed(_typed("response.failed", response="not an object"))
    assert odd.response_id == "" and odd.usage is None


def test_refusal_and_other_text_deltas_count_and_crlf_and_untyped_lines_parse() -> None:
    tap = SseTap(drop_usage_chunk=False, typed_events=True)
    refusal = _typed("response.refusal.delta", delta="I can't")
    args = _typed("response.function_call_arguments.delta", delta='{"a":1}')
    untyped = b'data: {"type":"response.output_text.delta","delta":"xyz"}\n\n'  # no event line
    split = b'event: response.output_text.delta\r\ndata: {"type":"response.output_text.delta",\r\ndata: "delta":"12"}\r\n\r\n'  # noqa: E501
    tap.feed(refusal + args + untyped + split)
    assert tap.content_chars == len("I can't") + len('{"a":1}') + 3 + 2


def test_delta_chars_without_and_with_a_parse() -> None:
    assert delta_chars(b'{"type":"t","delta":"plain"}') == 5
    assert delta_chars('{"delta":"déjà"}'.encode()) == 4
    assert delta_chars(b'{"delta":"a\\"b\\u00e9"}') == 4  # escapes: parsed
    assert delta_chars(b'{"delta": "spaced"}') == 6
    assert delta_chars(b'{"delta":7}') == 0 and delta_chars(b"not json") == 0


def test_event_fields() -> None:
    assert event_fields(b"event: a\ndata: 1\ndata:2\n: comment\nid: 9") == (b"a", b"1\n2")
    assert event_fields(b": only a comment") == (b"", None)


def _chat_chunk(content: str | None, usage: dict[str, int] | None = None) -> bytes:
    chunk: dict[str, object] = {"object": "chat.completion.chunk"}
    chunk["choices"] = [] if content is None else [{"index": 0, "delta": {"content": content}}]
    if usage is not None:
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def test_chat_streams_are_relayed_as_before() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    body = _chat_chunk("He") + _chat_chunk("llo") + _chat_chunk(None, usage)
    raw = body + b"data: [DONE]\n\n"
    kept = SseTap(drop_usage_chunk=False)
    assert _relay(kept, raw, 9) == raw
    assert kept.usage == Usage(5, 2) and kept.content_chars == 5
    dropped = SseTap(drop_usage_chunk=True)
    assert _relay(dropped, raw, 9) == _chat_chunk("He") + _chat_chunk("llo") + b"data: [DONE]\n\n"
    assert dropped.usage == Usage(5, 2) and dropped.content_chars == 5
    # a Responses stream read as chat chunks finds nothing: the API must be told
    blind = SseTap(drop_usage_chunk=False)
    blind.feed(_responses_stream(["abc"], {"input_tokens": 1, "output_tokens": 1}))
    assert blind.usage is None and blind.content_chars == 0


def test_a_cut_chat_stream_counts_refusals_and_tool_call_arguments() -> None:
    call = {"index": 0, "function": {"arguments": '{"q": 1}'}}
    chunks = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]},
        {"choices": [{"index": 0, "delta": {"refusal": "No."}}]},
        {"choices": [{"text": "abc", "index": 0}]},  # Completions
    ]
    raw = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
    tap = SseTap(drop_usage_chunk=True)
    assert tap.feed(raw) == raw and tap.usage is None
    assert tap.content_chars == len('{"q": 1}') + len("No.") + 3
