"""Path traversal out of the route prefix, in every encoding: the mock upstream's
``/mock/stats`` (outside ``/v1/``) must never be reached through the gateway, even with a
valid key. Paths are written raw: an HTTP client would normalise them first."""

from __future__ import annotations

from collections.abc import Callable

from attack_http import request
from corpus import Case, bearer, one, send
from live_gateway import Live

TRAVERSALS = {
    "dotdot": "/v1/../mock/stats",
    "dotdot-encoded-lower": "/v1/%2e%2e/mock/stats",
    "dotdot-encoded-upper": "/v1/%2E%2E/mock/stats",
    "dotdot-half-encoded-1": "/v1/.%2e/mock/stats",
    "dotdot-half-encoded-2": "/v1/%2e./mock/stats",
    "dotdot-encoded-slash": "/v1/..%2fmock/stats",
    "dotdot-encoded-slash-upper": "/v1/..%2Fmock%2Fstats",
    "all-encoded": "/v1/%2e%2e%2fmock%2fstats",
    "encoded-backslash": "/v1/..%5cmock%5cstats",
    "raw-backslash": "/v1/..\\mock\\stats",
    "double-encoded-dots": "/v1/%252e%252e/mock/stats",
    "double-encoded-slash": "/v1/..%252fmock%252fstats",
    "double-encoded-all": "/v1/%252e%252e%252fmock%252fstats",
    "dot-then-dotdot": "/v1/./../mock/stats",
    "deeper-dotdot": "/v1/chat/../../mock/stats",
    "empty-segment-dotdot": "/v1//../mock/stats",
    "dotdot-semicolon": "/v1/..;/mock/stats",
    "overlong-utf8-dots": "/v1/%c0%ae%c0%ae/mock/stats",
    "nul-then-dotdot": "/v1/%00/../mock/stats",
    "dotdot-with-query": "/v1/../mock/stats?x=/v1/",
    "dotdot-fragment": "/v1/../mock/stats#/v1/",
}


def _not_reached(name: str, method: str, target: str | Callable[[Live], str]) -> Case:
    async def run(live: Live) -> None:
        path = target if isinstance(target, str) else target(live)
        responses = await send(live, one(request(method, path, [bearer(live)])), 5.0)
        first = responses[0]
        assert 400 <= first.status < 500, f"status {first.status}: {first.body[:200]!r}"
        assert b"last_request" not in first.body and b"max_in_flight" not in first.body

    return Case(name, run)


CASES = [
    *(_not_reached(f"path-{name}", "GET", target) for name, target in TRAVERSALS.items()),
    _not_reached("path-dotdot-post-reset", "POST", "/v1/../mock/reset"),
    _not_reached("path-encoded-post-reset", "POST", "/v1/%2e%2e/mock/reset"),
    _not_reached("path-double-encoded-post-reset", "POST", "/v1/%252e%252e/mock/reset"),
    _not_reached("path-absolute-form-to-mock", "GET", lambda live: live.mock_url + "/mock/stats"),
    _not_reached("path-scheme-relative", "GET", "//127.0.0.1/mock/stats"),
    _not_reached("path-admin-through-prefix", "GET", "/v1/../admin/v1/policy"),
]
