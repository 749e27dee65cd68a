"""The streaming relay's tap: server-sent events split, read for usage, passed on.

:class:`SseTap` splits the byte stream into events (so that each complete event is passed on
as soon as it has arrived: an event is its lines up to a blank line) and reads each event's
fields (``event:``, ``data:``, the lines of a multi-line ``data`` joined with ``"\\n"``;
comments and other fields are skipped). Events are passed on byte for byte, in order. What
it reads depends on the API's stream (:mod:`gateway.apis`):

* Chat Completions and Completions chunks (``data: {...}``): the usage chunk is recorded and
  dropped when the client did not ask for it (naive clients index ``choices[0]``); the
  characters of the streamed ``content`` / ``text``, refusals and tool-call arguments are
  counted.
* The Responses API's typed events (``event: response.output_text.delta``): the ``usage`` of
  the ``response`` in ``response.completed``, ``response.incomplete`` or ``response.failed``
  is recorded; the characters of the text deltas (output text, refusals, function call and
  tool arguments, reasoning text) are counted. Nothing is ever dropped.

The counted characters settle a stream that ends without usage (a client that went away, an
upstream that sends none). The hot path: a delta is counted without a JSON parse when its
text has no escape.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.usage import USAGE_MARK, Usage, parse_usage

_NULL_USAGE = (b'"usage":null', b'"usage": null')
_DONE = b"[DONE]"
# the Responses API's events whose "delta" is text the client receives
_TEXT_DELTAS = frozenset(
    (
        b"response.output_text.delta",
        b"response.refusal.delta",
        b"response.function_call_arguments.delta",
        b"response.custom_tool_call_input.delta",
        b"response.mcp_call_arguments.delta",
        b"response.code_interpreter_call_code.delta",
        b"response.reasoning_text.delta",
        b"response.reasoning_summary_text.delta",
    )
)
# the Responses API's terminal events: their "response" holds the usage
_TERMINAL = frozenset((b"response.completed", b"response.incomplete", b"response.failed"))
_DELTA_MARK = b'"delta":"'


def event_fields(event: bytes) -> tuple[bytes, bytes | None]:
    """An event's name (``b""`` when it has no ``event:`` line) and its data (None when it
    has no ``data:`` line), by the SSE rules: ``field: value`` (one leading space dropped),
    a line without a colon is a field with an empty value, ``:`` starts a comment."""
    name = b""
    data: list[bytes] = []
    for line in event.split(b"\n"):
        field, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            data.append(value)
        elif field == b"event":
            name = value
    return name, b"\n".join(data) if data else None


def delta_chars(payload: bytes) -> int:
    """The characters of the string ``delta`` of an event's JSON (0 when it has none)."""
    start = payload.find(_DELTA_MARK)
    if start >= 0:  # the common case: compact JSON, a delta without escapes
        start += len(_DELTA_MARK)
        end = payload.find(b'"', start)
        if end >= 0:
            raw = payload[start:end]
            if b"\\" not in raw:
                return len(raw) if raw.isascii() else len(raw.decode("utf-8", "replace"))
    try:
        chunk = orjson.loads(payload)
    except ValueError:
        return 0
    delta = chunk.get("delta") if isinstance(chunk, dict) else None
    return len(delta) if isinstance(delta, str) else 0


class SseTap:
    """Splits an SSE byte stream into events; extracts usage; counts streamed characters;
    drops a Chat Completions usage chunk the client did not ask for."""

    __slots__ = ("_buffer", "_typed", "content_chars", "drop_usage_chunk", "response_id", "usage")

    def __init__(self, drop_usage_chunk: bool, typed_events: bool = False) -> None:
        """``typed_events``: the Responses API's stream (see the module docstring)."""
        self._buffer = b""
        self._typed = typed_events
        self.drop_usage_chunk = drop_usage_chunk and not typed_events
        self.usage: Usage | None = None
        self.response_id = ""  # a Responses stream's: its terminal event's response id
        self.content_chars = 0

    def feed(self, data: bytes) -> bytes:
        """Return the bytes of every complete event in ``data`` (plus what was buffered)."""
        buffer = self._buffer + data
        if b"\r\n" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        cut = buffer.rfind(b"\n\n")
        if cut < 0:
            self._buffer = buffer
            return b""
        complete, self._buffer = buffer[: cut + 2], buffer[cut + 2 :]
        out: list[bytes] = []
        for event in complete.split(b"\n\n"):
            if not event:
                continue
            if self._inspect(event):
                out.append(event + b"\n\n")
        return b"".join(out)

    def flush(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        if rest and self._inspect(rest):
            return rest
        return b""

    def _inspect(self, event: bytes) -> bool:
        """Record what the event says; False when it must be dropped."""
        if event.startswith(b"data:") and b"\n" not in event:  # one data line: a chunk
            name, payload = b"", event[5:].strip()
        elif event.startswith(b"event:") and event.count(b"\n") == 1 and b"\ndata:" in event:
            head, _, data_line = event.partition(b"\n")  # a typed event: name, data
            name, payload = head[6:].strip(), data_line[5:].strip()
        else:
            name, data = event_fields(event)
            if data is None:
                return True
            payload = data.strip()
        if self._typed:
            self._typed_event(name, payload)
            return True
        return self._chunk(payload)

    def _typed_event(self, name: bytes, payload: bytes) -> None:
        """A Responses API event (named by its ``event:`` line, else by its JSON ``type``)."""
        if not name:
            if b'.delta"' not in payload and USAGE_MARK not in payload:
                return
            chunk = _loads(payload)
            kind = chunk.get("type") if isinstance(chunk, dict) else None
            name = kind.encode() if isinstance(kind, str) else b""
        if name in _TEXT_DELTAS:
            self.content_chars += delta_chars(payload)
        elif name in _TERMINAL:
            chunk = _loads(payload)
            response = chunk.get("response") if isinstance(chunk, dict) else None
            if not isinstance(response, dict):
                return
            usage = parse_usage(response.get("usage"))
            if usage is not None:
                self.usage = usage
            ident = response.get("id")
            self.response_id = ident if isinstance(ident, str) else ""

    def _chunk(self, payload: bytes) -> bool:
        """A Chat Completions / Completions chunk; False for a usage chunk to drop."""
        if payload.startswith(_DONE):
            return True
        if USAGE_MARK in payload and not any(m in payload for m in _NULL_USAGE):
            chunk = _loads(payload)
            usage = parse_usage(chunk.get("usage")) if isinstance(chunk, dict) else None
            if usage is not None:
                self.usage = usage
                choices = chunk.get("choices")
                self._count_content(choices)
                return not (self.drop_usage_chunk and not choices)
            return True
        self._count_content_fast(payload)
        return True

    def _count_content_fast(self, payload: bytes) -> None:
        # Content chunks: count the characters of "content"/"text" values (and refusals,
        # tool-call arguments); no parse for chunks without any
        if (
            b'"content"' not in payload
            and b'"text"' not in payload
            and b'"refusal"' not in payload
            and b'"arguments"' not in payload
        ):
            return
        chunk = _loads(payload)
        if isinstance(chunk, dict):
            self._count_content(chunk.get("choices"))

    def _count_content(self, choices: Any) -> None:
        if not isinstance(choices, list):
            return
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            if not isinstance(delta, dict):  # Completions
                text = choice.get("text")
                self.content_chars += len(text) if isinstance(text, str) else 0
                continue
            text = delta.get("content")
            if type(text) is str:
                self.content_chars += len(text)
                if len(delta) == 1:  # the common case: {"content": "..."}
                    continue
            refusal = delta.get("refusal")
            if type(refusal) is str:
                self.content_chars += len(refusal)
            calls = delta.get("tool_calls")
            if type(calls) is list:
                self.content_chars += sum(_arguments(call) for call in calls)


def _arguments(call: Any) -> int:
    """The characters of a streamed tool call's ``function.arguments`` piece."""
    function = call.get("function") if isinstance(call, dict) else None
    arguments = function.get("arguments") if isinstance(function, dict) else None
    return len(arguments) if isinstance(arguments, str) else 0


def _loads(payload: bytes) -> Any:
    """The JSON of an event's data; None when it is not JSON."""
    try:
        return orjson.loads(payload)
    except ValueError:
        return None
