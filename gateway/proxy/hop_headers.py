"""Which headers cross the proxy, in each direction (RFC 9110 section 7.6.1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from multidict import CIMultiDict, CIMultiDictProxy

HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "trailer",
    }
)
# Never sent upstream: the client's credentials, our own protocol headers, framing we redo.
_REQUEST_DROP = frozenset(
    {
        "host",
        "content-length",
        "content-encoding",  # the body read (and forwarded) is already decoded
        "authorization",
        "x-api-key",
        "gateway-pow",
        "accept-encoding",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-real-ip",
    }
)
# Never passed to customers: the upstream's own limits and cookies, framing we redo.
_RESPONSE_DROP = frozenset(
    {
        "content-length",
        "content-encoding",
        "set-cookie",
        "server",
        "date",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
    }
)


def _connection_tokens(headers: Mapping[str, str]) -> set[str]:
    value = headers.get("connection", "")
    return {token.strip().lower() for token in value.split(",") if token.strip()}


@lru_cache(maxsize=4096)  # the same few dozen names on every request; clients may invent more
def _request_verdict(name: str) -> tuple[str, bool]:
    """(lower-case name, passes upstream). ``x-gateway-*`` identity headers are ours to set,
    never a client's."""
    lower = name.lower()
    dropped = lower in HOP_BY_HOP or lower in _REQUEST_DROP or lower.startswith("x-gateway-")
    return lower, not dropped


@lru_cache(maxsize=4096)
def _response_verdict(name: str) -> tuple[str, bool]:
    """(lower-case name, passes to the client)."""
    lower = name.lower()
    dropped = (
        lower in HOP_BY_HOP
        or lower in _RESPONSE_DROP
        or lower.startswith(("x-ratelimit-", "anthropic-ratelimit-", "x-gateway-"))
    )
    return lower, not dropped


def upstream_request_headers(
    incoming: CIMultiDictProxy[str],
    *,
    client_ip: str,
    scheme: str,
    upstream_key: str | None,
    extra: Iterable[tuple[str, str]] = (),
) -> CIMultiDict[str]:
    named = _connection_tokens(incoming) if "connection" in incoming else ()
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        lower, passes = _request_verdict(name)
        if passes and lower not in named:
            out.add(name, value)
    prior = incoming.get("x-forwarded-for")
    out["X-Forwarded-For"] = f"{prior}, {client_ip}" if prior else client_ip
    out["X-Forwarded-Proto"] = scheme
    out["Accept-Encoding"] = "identity"  # usage is read from the body: no compression upstream
    if upstream_key:
        out["Authorization"] = f"Bearer {upstream_key}"
    for name, value in extra:
        out[name] = value
    return out


def client_response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    named = _connection_tokens(upstream) if "connection" in upstream else ()
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in upstream.items():
        lower, passes = _response_verdict(name)
        if passes and lower not in named:
            out.add(name, value)
    return out
