"""Property tests of the request-body inspector (``gateway.proxy.inspect``): arbitrary bytes
and arbitrary JSON shapes either inspect cleanly or end in the documented 400/413
``invalid_request_error``; nothing else escapes."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import GatewayError
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.proxy.context import RequestContext
from gateway.proxy.inspect import InspectStage

LIMIT = 4096
FINGERPRINTER = Fingerprinter()
PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/x"]


class _Request:
    """What InspectStage reads of an aiohttp request: method, headers, the body in chunks."""

    headers: ClassVar[dict[str, str]] = {"x-stainless-retry-count": "1"}

    def __init__(self, method: str, chunks: list[bytes], declared: int | None) -> None:
        self.method = method
        self._chunks = chunks
        self.content_length = declared
        self.content = self

    async def iter_any(self) -> Any:
        for chunk in self._chunks:
            yield chunk


def _inspect(method: str, path: str, chunks: list[bytes], declared: int | None) -> None:
    stage = InspectStage(FINGERPRINTER, body_limit=LIMIT, route_prefix="/v1/")
    ctx = RequestContext(request_id="r", started=0.0, now=0.0, path=path)
    request: Any = _Request(method, chunks, declared)
    try:
        asyncio.run(stage.run(request, ctx))
    except GatewayError as error:
        assert error.type == "invalid_request_error", error.type
        assert error.status in (400, 413), error.status
        assert error.code in ("invalid_json", "invalid_type", "request_too_large"), error.code
        return
    assert ctx.features is not None
    if method == "POST" and ctx.endpoint != "other":
        assert ctx.payload is not None and ctx.prompt is not None
        assert ctx.prompt.est_tokens >= 0


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["role", "content", "text", "type", "image_url", "name", "x"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)
bodies = st.dictionaries(
    st.sampled_from(
        ["model", "messages", "prompt", "input", "instructions", "tools", "max_tokens", "n",
         "stream", "stream_options", "logprobs", "top_logprobs", "temperature", "seed", "x"]
    ),
    json_values,
    max_size=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from(PATHS))
def test_any_json_shape_is_inspected_or_refused_with_400(body: dict[str, Any], path: str) -> None:
    data = json.dumps(body).encode()
    _inspect("POST", path, [data], len(data))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.binary(max_size=LIMIT // 2), max_size=4),
    st.sampled_from(PATHS),
    st.sampled_from(["POST", "GET", "PUT"]),
    st.one_of(st.none(), st.integers(min_value=0, max_value=3 * LIMIT)),
)
def test_any_bytes_are_inspected_or_refused_with_400_or_413(
    chunks: list[bytes], path: str, method: str, declared: int | None
) -> None:
    _inspect(method, path, chunks, declared)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([b"[", b"{", b'"', b"1", b"null", b"[]", b"\xff", b"\x00"]))
def test_deep_or_odd_json_never_escapes(start: bytes) -> None:
    data = start * 2000 if len(start) == 1 else start
    _inspect("POST", "/v1/chat/completions", [data[:LIMIT]], None)
