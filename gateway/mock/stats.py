"""What the mock has seen: request counts and the last request's headers, secrets redacted.

Tests read it through ``GET /mock/stats`` to assert what a gateway forwarded: that the
client's credential was replaced (compare ``redact_secret(expected_key)``), that
``x-gateway-*`` headers were stripped, that ``stream_options.include_usage`` was added...
Recording costs a few dict updates; the redaction happens only when the stats are read.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "openai-api-key"}
)
_SCHEMES = ("Bearer ", "Basic ", "bearer ", "basic ")


def redact_secret(value: str) -> str:
    """A secret header's value as stats show it: the scheme kept, the secret as a short digest.

    ``Bearer sk-abc`` becomes ``Bearer redacted:sha256:<16 hex of sha256("sk-abc")>``.
    """
    scheme = next((s for s in _SCHEMES if value.startswith(s)), "")
    secret = value[len(scheme) :]
    digest = hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{scheme}redacted:sha256:{digest}"


def _summary(raw: bytes | None) -> dict[str, Any]:
    """The request body's shape without prompt text."""
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return {"invalid_json": True}
    if not isinstance(body, dict):
        return {}
    keep = (
        "model",
        "stream",
        "stream_options",
        "n",
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "logprobs",
        "top_logprobs",
        "user",
    )
    out: dict[str, Any] = {k: body[k] for k in keep if k in body}
    out["keys"] = sorted(body)
    messages = body.get("messages")
    if isinstance(messages, list):
        out["messages"] = len(messages)
    return out


class MockStats:
    """Counters of one mock app (its own state, reached through the app)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.streams = 0
        self.stream_disconnects = 0
        self.hangs = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.endpoints: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._last_method = ""
        self._last_path = ""
        self._last_headers: Mapping[str, str] | None = None
        self._last_body: bytes | None = None
        self._last_endpoint = ""

    def begin(self, endpoint: str, method: str, path: str, headers: Mapping[str, str]) -> None:
        """A request arrived (before its body is read)."""
        self.total += 1
        self.endpoints[endpoint] += 1
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        self._last_endpoint, self._last_method, self._last_path = endpoint, method, path
        self._last_headers = headers
        self._last_body = None

    def body(self, raw: bytes) -> None:
        """The last request's body (kept as is, summarised when the stats are read)."""
        self._last_body = raw

    def end(self, status: int) -> None:
        self.in_flight -= 1
        self.statuses[status] += 1

    def snapshot(self) -> dict[str, Any]:
        """The stats as JSON-ready data."""
        last: dict[str, Any] | None = None
        if self._last_headers is not None:
            headers: dict[str, str] = {}
            for name, value in self._last_headers.items():
                key = name.lower()
                shown = redact_secret(value) if key in SECRET_HEADERS else value
                headers[key] = f"{headers[key]}, {shown}" if key in headers else shown
            last = {
                "endpoint": self._last_endpoint,
                "method": self._last_method,
                "path": self._last_path,
                "headers": headers,
                "body": _summary(self._last_body),
            }
        return {
            "total": self.total,
            "endpoints": dict(self.endpoints),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "streams": self.streams,
            "stream_disconnects": self.stream_disconnects,
            "hangs": self.hangs,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "last_request": last,
        }
