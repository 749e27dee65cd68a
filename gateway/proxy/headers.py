"""Which headers cross the proxy, in each direction (RFC 9110 section 7.6.1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def upstream_request_headers(
    incoming: CIMultiDictProxy[str],
    *,
    client_ip: str,
    scheme: str,
    upstream_key: str | None,
    extra: Iterable[tuple[str, str]] = (),
) -> CIMultiDict[str]:
    named = _connection_tokens(incoming)
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named or lower in _REQUEST_DROP:
            continue
        if lower.startswith("x-gateway-"):
            continue  # identity headers are ours to set, never a client's
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
    named = _connection_tokens(upstream)
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in upstream.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named or lower in _RESPONSE_DROP:
            continue
        if lower.startswith(("x-ratelimit-", "anthropic-ratelimit-", "x-gateway-")):
            continue
        out.add(name, value)
    return out
