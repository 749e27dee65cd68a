"""The one error body: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.errors import GatewayError

REQUEST_ID_HEADER = "x-request-id"


def error_payload(error: GatewayError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": error.message,
        "type": error.type,
        "param": error.param,
        "code": error.code,
    }
    body.update(error.extra)
    return {"error": body}


def error_response(
    error: GatewayError, request_id: str | None = None, extra_headers: dict[str, str] | None = None
) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if extra_headers:
        headers.update(extra_headers)
    headers.update(error.headers)
    if error.retryable is not None:
        headers["x-should-retry"] = "true" if error.retryable else "false"
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    response = web.Response(
        status=error.status,
        body=json.dumps(error_payload(error)).encode(),
        content_type="application/json",
        headers=headers,
    )
    if error.headers.get("Connection", "").lower() == "close":
        response.force_close()  # the connection really ends after this answer
    return response


def sse_error_event(error: GatewayError) -> bytes:
    """An in-stream error event (after headers were sent): the SDK raises APIError."""
    return b"data: " + json.dumps(error_payload(error)).encode() + b"\n\n"
