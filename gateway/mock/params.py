"""The parameters of a completion request that change the mock's answer, validated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.mock.text import chat_prompt, count_tokens

MAX_CHOICES = 128
MAX_TOP_LOGPROBS = 20


class BadRequest(Exception):
    """A request the real API would refuse with 400 ``invalid_request_error``."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def _int(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"Invalid '{name}': expected an integer {bound}, got {value!r}.", name)
    return value


def prompt_texts(prompt: Any, param: str = "prompt") -> list[tuple[str, int]]:
    """Each prompt of a legacy completions request and its tokens (a token id counts one)."""
    if isinstance(prompt, str):
        return [(prompt, count_tokens(prompt))]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return [(p, count_tokens(p)) for p in prompt]
        if all(isinstance(t, int) for t in prompt):
            return [(" ".join(map(str, prompt)), len(prompt))]
        if all(isinstance(p, list) and all(isinstance(t, int) for t in p) for p in prompt):
            return [(" ".join(map(str, p)), len(p)) for p in prompt]
    raise BadRequest(
        f"Invalid '{param}': expected a string, a list of strings or token ids.", param
    )


@dataclass(frozen=True, slots=True)
class CompletionParams:
    """What shapes the answer to ``/v1/chat/completions`` or ``/v1/completions``."""

    model: str
    prompts: tuple[str, ...]  # one per prompt (chat: one, the messages' text)
    prompt_tokens: int
    n: int
    limit: int | None  # max_completion_tokens or max_tokens
    logprobs: bool
    top_logprobs: int
    stream: bool
    include_usage: bool

    @classmethod
    def parse(cls, body: Any, chat: bool) -> CompletionParams:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequest("you must provide a model parameter", "model")
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise BadRequest("Invalid 'messages': expected a non-empty array.", "messages")
            text, tokens = chat_prompt(messages)
            prompts: tuple[str, ...] = (text,)
            top = _int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS) or 0
            logprobs = body.get("logprobs") is True
        else:
            pairs = prompt_texts(body.get("prompt"))
            prompts = tuple(p for p, _ in pairs)
            tokens = sum(t for _, t in pairs)
            asked = _int(body, "logprobs", 0, 5)
            logprobs, top = asked is not None, asked or 0
        limit = _int(body, "max_completion_tokens", 1)
        if limit is None:
            limit = _int(body, "max_tokens", 1)
        stream = body.get("stream") is True
        options = body.get("stream_options")
        if options is not None and not stream:
            raise BadRequest(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            )
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return cls(
            model=model,
            prompts=prompts,
            prompt_tokens=tokens,
            n=_int(body, "n", 1, MAX_CHOICES) or 1,
            limit=limit,
            logprobs=logprobs,
            top_logprobs=top,
            stream=stream,
            include_usage=include_usage,
        )


# Chat Completions parameters the Responses API refuses (400 "Unsupported parameter")
_NOT_RESPONSES = ("max_tokens", "max_completion_tokens", "n", "logit_bias", "logprobs", "messages")
LOGPROBS_INCLUDE = "message.output_text.logprobs"
MIN_OUTPUT_TOKENS = 16  # the least max_output_tokens the Responses API accepts


def responses_params(body: Any) -> CompletionParams:
    """What shapes the answer to ``/v1/responses``: ``input`` (a string or message items),
    ``instructions`` (a system message before them), ``max_output_tokens`` (at least 16),
    ``top_logprobs`` with the ``include`` entry ``message.output_text.logprobs``, ``stream``.
    The Chat Completions parameters it does not know are refused, as the real API does,
    and so is ``stream_options.include_usage`` (its usage always comes in the stream)."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("you must provide a model parameter", "model")
    for name in _NOT_RESPONSES:
        if name in body:
            raise BadRequest(f"Unsupported parameter: '{name}'.", name)
    options = body.get("stream_options")
    if isinstance(options, dict) and "include_usage" in options:
        raise BadRequest(
            "Unknown parameter: 'stream_options.include_usage'.", "stream_options.include_usage"
        )
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        raise BadRequest("Invalid 'input': expected a string or a non-empty array.", "input")
    instructions = body.get("instructions")
    messages = [_item_message(item) for item in items]
    if isinstance(instructions, str):
        messages.insert(0, {"role": "system", "content": instructions})
    text, tokens = chat_prompt(messages)
    include = body.get("include")
    return CompletionParams(
        model=model,
        prompts=(text,),
        prompt_tokens=tokens,
        n=1,
        limit=_int(body, "max_output_tokens", MIN_OUTPUT_TOKENS),
        logprobs=isinstance(include, list) and LOGPROBS_INCLUDE in include,
        top_logprobs=_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS) or 0,
        stream=body.get("stream") is True,
        include_usage=False,
    )


def _item_message(item: Any) -> Any:
    """An ``input`` item as a chat message (a tool's output counts as its text)."""
    if isinstance(item, dict) and "content" not in item and isinstance(item.get("output"), str):
        return {"role": "tool", "content": item["output"]}
    return item
