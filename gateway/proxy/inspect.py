"""The inspect stage: read the body (bounded), parse JSON, fingerprint the prompt.

Fingerprints are pure and cheap (see ``gateway.diversity``); the prompt text itself never
leaves this stage except to go upstream.
"""

from __future__ import annotations

import json
from typing import Protocol

from aiohttp import web

from gateway.errors import GatewayError, InvalidRequest
from gateway.model import Fingerprint, RequestFeatures
from gateway.proxy.context import RequestContext

_ENDPOINTS = {
    "chat/completions": "chat",
    "completions": "completions",
    "embeddings": "embeddings",
    "responses": "chat",
}
_JSON_ENDPOINTS = frozenset(_ENDPOINTS.values())


class PromptInspector(Protocol):
    def fingerprint(self, body: dict[str, object], endpoint: str) -> Fingerprint: ...

    def features(
        self, body: dict[str, object], endpoint: str, headers: dict[str, str]
    ) -> RequestFeatures: ...


def endpoint_of(path: str, prefix: str) -> str:
    tail = path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")
    return _ENDPOINTS.get(tail.strip("/"), "other")


class InspectStage:
    name = "inspect"

    def __init__(self, inspector: PromptInspector, *, body_limit: int, route_prefix: str) -> None:
        self._inspector = inspector
        self._limit = body_limit
        self._prefix = route_prefix

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        ctx.endpoint = endpoint_of(request.path, self._prefix)
        ctx.body = await self._read(request)
        if request.method != "POST" or ctx.endpoint not in _JSON_ENDPOINTS:
            ctx.features = RequestFeatures(endpoint=ctx.endpoint, model="")
            return None
        try:
            payload = json.loads(ctx.body) if ctx.body else None
        except (ValueError, UnicodeDecodeError):
            raise InvalidRequest(
                "We could not parse the JSON body of your request. The OpenAI API expects a "
                "JSON payload.",
                code="invalid_json",
            ) from None
        if not isinstance(payload, dict):
            raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
        ctx.payload = payload
        headers = {"x-stainless-retry-count": request.headers.get("x-stainless-retry-count", "")}
        ctx.features = self._inspector.features(payload, ctx.endpoint, headers)
        ctx.fingerprint = self._inspector.fingerprint(payload, ctx.endpoint)
        return None

    async def _read(self, request: web.Request) -> bytes:
        declared = request.content_length
        if declared is not None and declared > self._limit:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > self._limit:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> GatewayError:
        return GatewayError(
            f"The request body is larger than this gateway accepts ({self._limit} bytes).",
            status=413,
            type="invalid_request_error",
            code="request_too_large",
        )
