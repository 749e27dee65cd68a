"""Response bodies in exactly OpenAI's shape: completions, chunks, usage, models, errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.mock.config import RequestHooks
from gateway.mock.params import CompletionParams
from gateway.mock.text import VOCABULARY, Generated, generate, logprob_values, prompt_seed

SYSTEM_FINGERPRINT = "fp_m0c4u9s7r3"


@dataclass(frozen=True, slots=True)
class Choice:
    """One generated choice: its text and, when asked for, its log probabilities."""

    index: int
    generated: Generated
    reasoning_tokens: int
    logprob_rows: tuple[tuple[float, ...], ...] | None
    seed: int


@dataclass(frozen=True, slots=True)
class Answer:
    """Everything a (streamed or not) completion says, computed once."""

    choices: tuple[Choice, ...]
    usage: dict[str, Any]


def compose(params: CompletionParams, hooks: RequestHooks, seed: int) -> Answer:
    """Generate every choice (``n`` per prompt) and the usage that counts them."""
    choices: list[Choice] = []
    reasoning = hooks.reasoning_tokens
    if params.limit is not None:
        reasoning = min(reasoning, params.limit)
    visible_limit = None if params.limit is None else params.limit - reasoning
    for prompt in params.prompts:
        base = prompt_seed(prompt, seed)
        for i in range(params.n):
            choice_seed = base ^ (i * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF)
            gen = generate(choice_seed, hooks.completion_tokens, visible_limit)
            rows = None
            if params.logprobs:
                rows = tuple(
                    tuple(r) for r in logprob_values(choice_seed, gen.tokens, params.top_logprobs)
                )
            choices.append(Choice(len(choices), gen, reasoning, rows, choice_seed))
    completion = sum(c.generated.tokens + c.reasoning_tokens for c in choices)
    return Answer(
        tuple(choices),
        usage(params.prompt_tokens, completion, reasoning * len(choices), hooks.cached_tokens),
    )


def usage(prompt: int, completion: int, reasoning: int = 0, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": min(cached, prompt), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _alternative(seed: int, position: int, rank: int) -> str:
    return VOCABULARY[((seed >> 7) + position * 31 + rank * 17) % len(VOCABULARY)]


def chat_logprobs(choice: Choice, start: int, stop: int) -> dict[str, Any] | None:
    """The ``logprobs`` of a chat choice for its pieces ``start:stop`` (None if not asked)."""
    if choice.logprob_rows is None:
        return None
    content = []
    for pos in range(start, stop):
        token, row = choice.generated.pieces[pos], choice.logprob_rows[pos]
        top = (
            [{"token": token, "logprob": row[0], "bytes": list(token.encode())}]
            if len(row) > 1
            else []
        )
        for rank, value in enumerate(row[2:], 1):
            alt = _alternative(choice.seed, pos, rank)
            top.append({"token": " " + alt, "logprob": value, "bytes": list((" " + alt).encode())})
        content.append(
            {"token": token, "logprob": row[0], "bytes": list(token.encode()), "top_logprobs": top}
        )
    return {"content": content, "refusal": None}


def completion_logprobs(
    choice: Choice, start: int, stop: int, offset: int
) -> dict[str, Any] | None:
    """The legacy ``logprobs`` object of a completions choice for pieces ``start:stop``."""
    if choice.logprob_rows is None:
        return None
    pieces = choice.generated.pieces[start:stop]
    rows = choice.logprob_rows[start:stop]
    offsets = []
    for piece in pieces:
        offsets.append(offset)
        offset += len(piece)
    top: list[dict[str, float] | None] = []
    for pos, (piece, row) in enumerate(zip(pieces, rows, strict=True), start):
        if len(row) == 1:
            top.append(None)
            continue
        entry = {piece: row[0]}
        for rank, value in enumerate(row[2:], 1):
            entry[" " + _alternative(choice.seed, pos, rank)] = value
        top.append(entry)
    return {
        "tokens": list(pieces),
        "token_logprobs": [r[0] for r in rows],
        "top_logprobs": top,
        "text_offset": offsets,
    }


def chat_completion(ident: str, created: int, model: str, answer: Answer) -> dict[str, Any]:
    choices = []
    for c in answer.choices:
        choices.append(
            {
                "index": c.index,
                "message": {
                    "role": "assistant",
                    "content": c.generated.text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": chat_logprobs(c, 0, c.generated.tokens),
                "finish_reason": c.generated.finish_reason,
            }
        )
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": answer.usage,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def text_completion(ident: str, created: int, model: str, answer: Answer) -> dict[str, Any]:
    choices = [
        {
            "text": c.generated.text,
            "index": c.index,
            "logprobs": completion_logprobs(c, 0, c.generated.tokens, 0),
            "finish_reason": c.generated.finish_reason,
        }
        for c in answer.choices
    ]
    return {
        "id": ident,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": answer.usage,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_STATUS_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request (mock).", "invalid_request_error", None),
    401: ("Incorrect API key provided (mock).", "invalid_request_error", "invalid_api_key"),
    403: (
        "You are not allowed to access this resource (mock).",
        "invalid_request_error",
        "unsupported_country_region_territory",
    ),
    404: (
        "The model does not exist or you do not have access to it (mock).",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ("Request timed out (mock).", "server_error", "timeout"),
    429: (
        "Rate limit reached for requests (mock). Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
    ),
    503: (
        "The engine is currently overloaded, please try again later (mock).",
        "server_error",
        "overloaded",
    ),
}


def status_error(status: int) -> dict[str, Any]:
    """The OpenAI-style body for an ``x-mock-status`` answer."""
    message, type_, code = _STATUS_ERRORS.get(
        status,
        ("The server had an error while processing your request (mock).", "server_error", None),
    )
    if status < 400:
        message, type_, code = f"Status {status} (mock).", "mock", None
    return error_body(message, type_, code)


def completion_template(chat: bool, model: str, answer: Answer) -> str:
    """The JSON of a non-streamed completion after its ``id``, ``object`` and ``created``
    (built once per distinct request; :func:`fill_template` completes it per answer)."""
    build = chat_completion if chat else text_completion
    full = build("", 0, model, answer)
    for key in ("id", "object", "created"):
        del full[key]
    return json.dumps(full, separators=(",", ":"))[1:]


def fill_template(template: str, ident: str, chat: bool, created: int) -> str:
    kind = "chat.completion" if chat else "text_completion"
    return f'{{"id":"{ident}","object":"{kind}","created":{created},{template}'
