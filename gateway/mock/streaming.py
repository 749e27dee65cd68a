"""Server-sent events exactly like OpenAI's streams.

Chat: a first chunk per choice with ``role``, the content in ``chunks`` pieces (a delay before
each), a last chunk per choice with ``finish_reason``; when ``stream_options.include_usage`` is
set every chunk carries ``"usage": null`` and one more chunk with ``"choices": []`` carries the
usage. Then ``data: [DONE]``. Legacy completions stream ``text_completion`` chunks the same way.

A stream is planned once per distinct request (:func:`plan_stream`, cached by the app): every
event is kept as the JSON after its ``id``, ``object`` and ``created`` fields, which are the
only parts that change from one answer to the next. :func:`write_paced` paces the groups of
a stream to the client, these and the Responses API's (:mod:`gateway.mock.responses`) alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.mock.bodies import SYSTEM_FINGERPRINT, Answer, Choice, chat_logprobs
from gateway.mock.bodies import completion_logprobs as text_logprobs
from gateway.mock.config import RequestHooks
from gateway.mock.params import CompletionParams

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """The events of a stream, in groups separated by the chunk delay."""

    kind: bytes  # the chunks' "object"
    groups: tuple[tuple[bytes, ...], ...]  # each event's JSON after "created", with its "}"


def content_spans(tokens: int, chunks: int) -> list[tuple[int, int]]:
    """``chunks`` contiguous, non-empty spans covering ``range(tokens)`` (fewer if short)."""
    k = min(chunks, tokens)
    return [(i * tokens // k, (i + 1) * tokens // k) for i in range(k)]


def _content_steps(answer: Answer, chunks: int) -> Iterator[list[tuple[Choice, int, int, int]]]:
    """Per step, for every choice that still has text: (choice, start, stop, text offset)."""
    plans = [content_spans(c.generated.tokens, chunks) for c in answer.choices]
    offsets = [0] * len(answer.choices)
    for step in range(max((len(p) for p in plans), default=0)):
        batch = []
        for i, (choice, plan) in enumerate(zip(answer.choices, plans, strict=True)):
            if step < len(plan):
                start, stop = plan[step]
                batch.append((choice, start, stop, offsets[i]))
                offsets[i] += sum(len(p) for p in choice.generated.pieces[start:stop])
        yield batch


class _Events:
    """Builds the events of one stream (everything after ``created``)."""

    def __init__(self, params: CompletionParams, chat: bool) -> None:
        self.chat = chat
        self.head: dict[str, Any] = {"model": params.model}
        if chat:
            self.head["service_tier"] = "default"
        self.head["system_fingerprint"] = SYSTEM_FINGERPRINT
        self.usage_null = params.include_usage

    def event(self, choices: list[dict[str, Any]], usage: Any = None) -> bytes:
        payload = dict(self.head)
        payload["choices"] = choices
        if self.usage_null or usage is not None:
            payload["usage"] = usage
        return json.dumps(payload, separators=(",", ":"))[1:].encode()

    def role(self, choice: Choice) -> bytes:
        delta = {"role": "assistant", "content": "", "refusal": None}
        return self.event(
            [{"index": choice.index, "delta": delta, "logprobs": None, "finish_reason": None}]
        )

    def content(self, choice: Choice, start: int, stop: int, offset: int) -> bytes:
        text = "".join(choice.generated.pieces[start:stop])
        if self.chat:
            logprobs = chat_logprobs(choice, start, stop)
            delta = {"content": text}
            return self.event(
                [
                    {
                        "index": choice.index,
                        "delta": delta,
                        "logprobs": logprobs,
                        "finish_reason": None,
                    }
                ]
            )
        logprobs = text_logprobs(choice, start, stop, offset)
        return self.event(
            [{"text": text, "index": choice.index, "logprobs": logprobs, "finish_reason": None}]
        )

    def finish(self, choice: Choice) -> bytes:
        reason = choice.generated.finish_reason
        if self.chat:
            return self.event(
                [{"index": choice.index, "delta": {}, "logprobs": None, "finish_reason": reason}]
            )
        return self.event(
            [{"text": "", "index": choice.index, "logprobs": None, "finish_reason": reason}]
        )


def plan_stream(
    params: CompletionParams, hooks: RequestHooks, answer: Answer, chat: bool
) -> StreamPlan:
    """Every event of the stream: roles, one group per content step, then the tail."""
    build = _Events(params, chat)
    groups: list[list[bytes]] = [[build.role(c) for c in answer.choices] if chat else []]
    for batch in _content_steps(answer, hooks.chunks):
        groups.append([build.content(*item) for item in batch])
    tail = [build.finish(c) for c in answer.choices]
    if params.include_usage and not hooks.no_usage:
        tail.append(build.event([], answer.usage))
    groups[-1].extend(tail)  # the finish follows the last content without a delay
    kind = b"chat.completion.chunk" if chat else b"text_completion"
    return StreamPlan(kind, tuple(tuple(g) for g in groups))


async def write_paced(
    response: web.StreamResponse,
    groups: Iterable[Iterable[bytes]],
    delay_s: float,
    last: bytes = b"",
) -> None:
    """Write groups of SSE bytes to a prepared response, ``delay_s`` before each group after
    the first, then ``last`` right after the final group (raises on disconnect).

    Without a delay the whole stream goes out in one write (the kernel would coalesce the
    writes anyway): the mock is the benchmark's baseline and must stay cheap.
    """
    pending: list[bytes] = []
    for number, group in enumerate(groups):
        if number > 0 and delay_s > 0:
            await response.write(b"".join(pending))
            pending.clear()
            await asyncio.sleep(delay_s)
        pending.extend(group)
    pending.append(last)
    await response.write(b"".join(pending))
    await response.write_eof()


async def write_stream(
    response: web.StreamResponse, plan: StreamPlan, ident: str, created: int, delay_s: float
) -> None:
    """Write the planned events, each as ``data: {"id":...,"object":...,"created":...,`` and
    its planned rest, then ``[DONE]`` (:func:`write_paced`: a delay before each content
    group)."""
    prefix = b'data: {"id":"%s","object":"%s","created":%d,' % (ident.encode(), plan.kind, created)
    between = b"\n\n" + prefix
    framed = [(prefix, between.join(group), b"\n\n") if group else () for group in plan.groups]
    await write_paced(response, framed, delay_s, DONE)
