"""The Responses API's answers (``POST /v1/responses``) in exactly OpenAI's shape: a whole
``response`` object, or its stream of typed events.

A stream is ``response.created``, ``response.in_progress``, ``response.output_item.added``,
``response.content_part.added``, the text in ``chunks`` ``response.output_text.delta`` events
(a delay before each), ``response.output_text.done``, ``response.content_part.done``,
``response.output_item.done`` and ``response.completed`` (``response.incomplete`` when
``max_output_tokens`` cut the answer), whose ``response`` holds the usage (``null`` with the
``x-mock-no-usage`` hook). Every event is ``event: <type>`` and ``data: <json>``; no
``[DONE]``. The text, its token counts and latencies are the chat answer's
(:func:`gateway.mock.bodies.compose`, :mod:`gateway.mock.streaming`'s spans).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from gateway.mock.bodies import Answer, Choice, chat_logprobs
from gateway.mock.params import BadRequest, CompletionParams
from gateway.mock.streaming import content_spans


def responses_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """The chat answer's usage in the Responses API's words."""
    return {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": usage["prompt_tokens_details"]["cached_tokens"]},
        "output_tokens": usage["completion_tokens"],
        "output_tokens_details": {
            "reasoning_tokens": usage["completion_tokens_details"]["reasoning_tokens"]
        },
        "total_tokens": usage["total_tokens"],
    }


def _logprobs(choice: Choice, start: int, stop: int) -> list[Any]:
    found = chat_logprobs(choice, start, stop)
    return found["content"] if found is not None else []


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer to render: its ids, time, parameters and generated text."""

    ident: str  # resp_...
    item: str  # msg_...
    created: int
    params: CompletionParams
    answer: Answer
    usage_hidden: bool = False  # the x-mock-no-usage hook (streams)
    previous: str | None = None  # the stored response this one continues

    @property
    def choice(self) -> Choice:
        return self.answer.choices[0]

    def _part(self, text: str, logprobs: list[Any]) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": logprobs, "text": text}

    def _message(self, done: bool) -> dict[str, Any]:
        content = []
        if done:
            gen = self.choice.generated
            content.append(self._part(gen.text, _logprobs(self.choice, 0, gen.tokens)))
        status = "completed" if done else "in_progress"
        return {
            "id": self.item, "type": "message", "status": status, "content": content,
            "role": "assistant",
        }  # fmt: skip

    def response(self, done: bool, usage: bool = True) -> dict[str, Any]:
        """The ``response`` object: in progress (no output), or done (``completed``, or
        ``incomplete`` when ``max_output_tokens`` cut the text)."""
        cut = done and self.choice.generated.finish_reason == "length"
        status = ("incomplete" if cut else "completed") if done else "in_progress"
        return {
            "id": self.ident, "object": "response", "created_at": self.created,
            "status": status, "background": False, "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "instructions": None, "max_output_tokens": self.params.limit,
            "model": self.params.model,
            "output": [self._message(True)] if done else [], "parallel_tool_calls": True,
            "previous_response_id": self.previous, "reasoning": {"effort": None, "summary": None},
            "service_tier": "default", "store": True, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [],
            "top_logprobs": self.params.top_logprobs, "top_p": 1.0, "truncation": "disabled",
            "usage": responses_usage(self.answer.usage) if done and usage else None,
            "user": None, "metadata": {},
        }  # fmt: skip

    def whole(self) -> str:
        return json.dumps(self.response(True), separators=(",", ":"))

    def stream(self, chunks: int) -> list[list[bytes]]:
        """The events, in groups separated by the chunk delay."""
        events = _Numbered()
        at = {"item_id": self.item, "output_index": 0, "content_index": 0}
        first = [
            events("response.created", response=self.response(False)),
            events("response.in_progress", response=self.response(False)),
            events("response.output_item.added", output_index=0, item=self._message(False)),
            events("response.content_part.added", **at, part=self._part("", [])),
        ]
        groups = [first]
        gen = self.choice.generated
        for start, stop in content_spans(gen.tokens, chunks):
            delta = "".join(gen.pieces[start:stop])
            logprobs = _logprobs(self.choice, start, stop)
            groups.append(
                [events("response.output_text.delta", **at, delta=delta, logprobs=logprobs)]
            )
        logprobs = _logprobs(self.choice, 0, gen.tokens)
        done = self.response(True, usage=not self.usage_hidden)
        groups[-1] += [
            events("response.output_text.done", **at, text=gen.text, logprobs=logprobs),
            events("response.content_part.done", **at, part=self._part(gen.text, logprobs)),
            events("response.output_item.done", output_index=0, item=self._message(True)),
            events(f"response.{done['status']}", response=done),
        ]
        return groups


STORED_MAX = 200_000  # responses a mock keeps for previous_response_id (then the oldest go)


class StoredResponses:
    """The responses a mock stored (``store`` defaults to true), so that a request continuing
    one by ``previous_response_id`` is answered, and one naming an id the mock never gave
    (or no longer keeps) is refused as the real API refuses it: 400
    ``previous_response_not_found``. A client's made-up id is no chain."""

    def __init__(self, size: int = STORED_MAX) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def previous_of(self, raw: bytes) -> str | None:
        """The stored response the request body continues (None: none named); raises
        :class:`BadRequest` for an id not stored."""
        if b"previous_response_id" not in raw:
            return None
        body = json.loads(raw)
        name = body.get("previous_response_id") if isinstance(body, dict) else None
        if name is None:
            return None
        if not isinstance(name, str) or name not in self._ids:
            raise BadRequest(
                f"Previous response with id '{name}' not found.",
                "previous_response_id",
                "previous_response_not_found",
            )
        return name

    def keep(self, ident: str, raw: bytes) -> None:
        """Remember ``ident`` unless the request asked not to store (``"store": false``)."""
        if b'"store"' in raw and b'"store":false' in raw.replace(b" ", b""):
            return
        self._ids[ident] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)


class _Numbered:
    """Typed events with their ``sequence_number``, as SSE bytes."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._next, **fields}
        self._next += 1
        return b"event: %s\ndata: %s\n\n" % (
            kind.encode(),
            json.dumps(data, separators=(",", ":")).encode(),
        )
