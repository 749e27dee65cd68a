"""The Responses API (``/v1/responses``) on the request path: its output limit is read and
reserved, degrade writes only fields it accepts, and no usage option is injected."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import orjson

from gateway.apis import EMBEDDINGS, RESPONSES
from gateway.detection.config import DegradeSettings, DetectionPolicy
from gateway.detection.degrade import degrade
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.policy.loader import load_policy
from gateway.proxy.context import RequestContext
from gateway.proxy.decide import DecideStage
from gateway.proxy.inspect import InspectStage
from gateway.proxy.planner import Planner

FINGERPRINTER = Fingerprinter()


class _Request:
    """What InspectStage reads of an aiohttp request."""

    method = "POST"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, body: dict[str, Any]) -> None:
        self._body = orjson.dumps(body)
        self.content_length = len(self._body)
        self.content = self

    async def iter_any(self) -> Any:
        yield self._body


def _inspected(path: str, body: dict[str, Any]) -> RequestContext:
    stage = InspectStage(FINGERPRINTER, body_limit=1 << 20, route_prefix="/v1")
    ctx = RequestContext(request_id="r", started=0.0, now=0.0, path=path)
    request: Any = _Request(body)
    asyncio.run(stage.run(request, ctx))
    return ctx


def test_max_output_tokens_is_read_and_reserved(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefaults: {tier: free, max_tokens: 64}\ntiers: {free: {}}\n")
    loaded = load_policy(policy)
    body = {"model": "m", "input": "Write an essay.", "max_output_tokens": 3000}
    ctx = _inspected("/v1/responses", body)
    assert ctx.api is RESPONSES and ctx.endpoint == "chat"
    assert ctx.features is not None and ctx.features.max_tokens == 3000
    assert Planner.completion_reservation(loaded, ctx) == 3000
    plain = _inspected("/v1/responses", {"model": "m", "input": "Write an essay."})
    assert Planner.completion_reservation(loaded, plain) == 64  # the policy's default
    # the Chat Completions fields mean nothing to the Responses API, and the other way round
    odd = _inspected("/v1/responses", {"model": "m", "input": "x", "max_tokens": 5})
    assert odd.features is not None and odd.features.max_tokens is None
    chat = {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_output_tokens": 5}
    assert FINGERPRINTER.features(chat, "chat").max_tokens is None


def test_logprobs_asked_for_in_include_are_read() -> None:
    body = {"model": "m", "input": "x", "include": ["message.output_text.logprobs"]}
    assert FINGERPRINTER.features(body, "chat", api=RESPONSES).logprobs is True
    assert FINGERPRINTER.features({**body, "include": []}, "chat", api=RESPONSES).logprobs is False


def test_no_usage_option_is_injected_into_a_responses_stream(tmp_path: Path) -> None:
    body = {"model": "m", "input": "x", "stream": True}
    ctx = _inspected("/v1/responses", body)
    ctx.token_reservations = ((object(), 10),)  # type: ignore[assignment]
    DecideStage._ask_for_usage(ctx)
    assert ctx.payload is not None and "stream_options" not in ctx.payload
    assert not ctx.injected_usage and not ctx.body_changed
    chat = _inspected(
        "/v1/chat/completions", {**body, "messages": [{"role": "user", "content": "x"}]}
    )
    chat.token_reservations = ((object(), 10),)  # type: ignore[assignment]
    DecideStage._ask_for_usage(chat)
    assert chat.payload is not None and chat.payload["stream_options"] == {"include_usage": True}


def test_degrade_caps_or_sets_max_output_tokens_on_a_responses_body() -> None:
    body = {"model": "m", "input": "x", "max_output_tokens": 8192, "top_logprobs": 20}
    out, changed = degrade(body, DetectionPolicy(), RESPONSES)
    assert out == {"model": "m", "input": "x", "max_output_tokens": 512}
    assert changed == ["top_logprobs removed", "max_output_tokens capped at 512"]
    out, changed = degrade({"model": "m", "input": "x"}, DegradeSettings(max_tokens=256), RESPONSES)
    assert out == {"model": "m", "input": "x", "max_output_tokens": 256}
    assert changed == ["max_output_tokens set to 256"]
    out, _ = degrade({"input": "x", "max_output_tokens": 100}, DetectionPolicy(), RESPONSES)
    assert out == {"input": "x", "max_output_tokens": 100}
    # never below the least the Responses API accepts (16)
    out, _ = degrade({"input": "x"}, DegradeSettings(max_tokens=4), RESPONSES)
    assert out["max_output_tokens"] == 16 and "max_tokens" not in out


def test_degrade_strips_the_logprobs_include_entry() -> None:
    include = ["message.output_text.logprobs", "reasoning.encrypted_content"]
    body = {"input": "x", "include": include, "max_output_tokens": 10}
    out, changed = degrade(body, DetectionPolicy(), RESPONSES)
    assert out["include"] == ["reasoning.encrypted_content"] and body["include"] == include
    assert changed == ["message.output_text.logprobs removed"]
    kept, _ = degrade(body, DegradeSettings(strip_logprobs=False), RESPONSES)
    assert kept["include"] == include


def test_degrade_sets_no_output_limit_on_embeddings() -> None:
    out, changed = degrade({"model": "e", "input": "x"}, DetectionPolicy(), EMBEDDINGS)
    assert out == {"model": "e", "input": "x"} and changed == []
