"""Actual usage, read from the upstream's answer: a JSON ``usage`` block (a whole answer's,
or a stream's as :class:`gateway.proxy.sse.SseTap` finds it).

Both shapes read alike: Chat Completions and Completions count ``prompt_tokens`` and
``completion_tokens``, the Responses API ``input_tokens`` and ``output_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

USAGE_MARK = b'"usage":'  # the bytes a body or event carrying usage holds


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
    if USAGE_MARK not in body:
        return None
    try:
        return parse_usage(orjson.loads(body).get("usage"))
    except (ValueError, AttributeError):
        return None


def answer_from_json(body: bytes) -> tuple[Usage | None, str]:
    """A whole Responses API answer's usage and its response id ("": none), read at once."""
    try:
        answer = orjson.loads(body)
    except ValueError:
        return None, ""
    if not isinstance(answer, dict):
        return None, ""
    ident = answer.get("id")
    return parse_usage(answer.get("usage")), ident if isinstance(ident, str) else ""


def estimate_tokens_from_chars(chars: int) -> int:
    """About four characters a token for English text (the same rule as prompt estimates)."""
    return (chars + 3) // 4
