"""Actual usage, read from the upstream's answer: a JSON ``usage`` block or the SSE usage chunk.

:class:`SseTap` sits in the streaming relay: it splits the byte stream into SSE events (so
that each complete event is passed on as soon as it has arrived), records the final usage
chunk and drops it when the client did not ask for it (naive clients index ``choices[0]``),
and counts streamed content characters for streams that end without usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

_USAGE_MARK = b'"usage":'
_NULL_USAGE = (b'"usage":null', b'"usage": null')


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def count(self, which: str) -> int:
        if which == "input":
            return self.prompt_tokens
        if which == "output":
            return self.completion_tokens
        return self.total_tokens


def parse_usage(block: Any) -> Usage | None:
    if not isinstance(block, dict):
        return None
    prompt = block.get("prompt_tokens", block.get("input_tokens"))
    completion = block.get("completion_tokens", block.get("output_tokens", 0))
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(max(0, prompt), max(0, completion))


def usage_from_json(body: bytes) -> Usage | None:
    if _USAGE_MARK not in body:
        return None
    try:
        return parse_usage(orjson.loads(body).get("usage"))
    except (ValueError, AttributeError):
        return None


def estimate_tokens_from_chars(chars: int) -> int:
    """About four characters a token for English text (the same rule as prompt estimates)."""
    return (chars + 3) // 4


class SseTap:
    """Splits an SSE byte stream into events; extracts usage; optionally drops the usage chunk."""

    __slots__ = ("_buffer", "content_chars", "drop_usage_chunk", "usage")

    def __init__(self, drop_usage_chunk: bool) -> None:
        self._buffer = b""
        self.drop_usage_chunk = drop_usage_chunk
        self.usage: Usage | None = None
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
        if not event.startswith(b"data:") or event.startswith(b"data: [DONE]"):
            return True
        payload = event[5:].strip()
        if _USAGE_MARK in payload and not any(m in payload for m in _NULL_USAGE):
            try:
                chunk = orjson.loads(payload)
            except ValueError:
                return True
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
        # Content chunks: count the characters of "content"/"text" values without a full parse
        # when cheap; fall back to json for odd shapes.
        if b'"content"' not in payload and b'"text"' not in payload:
            return
        try:
            chunk = orjson.loads(payload)
        except ValueError:
            return
        if isinstance(chunk, dict):
            self._count_content(chunk.get("choices"))

    def _count_content(self, choices: Any) -> None:
        if not isinstance(choices, list):
            return
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
            if isinstance(text, str):
                self.content_chars += len(text)
