"""Header derivation (quota headers from a Decision) and proxy header filtering."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

from gateway.http.quota_headers import quota_headers, retry_headers
from gateway.model import BudgetSpec, BudgetState, Decision
from gateway.notation import go_duration
from gateway.proxy.hop_headers import client_response_headers, upstream_request_headers


def _state(
    name: str,
    unit: str,
    limit: int,
    remaining: int,
    reset: float,
    mode: str = "enforce",
    algorithm: str = "bucket",
) -> BudgetState:
    spec = BudgetSpec(
        name=name,
        scope="account",
        unit=unit,
        algorithm=algorithm,  # type: ignore[arg-type]
        key=f"k:{name}",
        limit=limit,
        window=60.0,
        rate=float(limit),
        mode=mode,
    )  # type: ignore[arg-type]
    return BudgetState(spec, True, remaining, reset, 0.0)


def test_go_durations() -> None:
    assert go_duration(0.012) == "12ms"
    assert go_duration(1) == "1s"
    assert go_duration(360) == "6m0s"
    assert go_duration(252.172) == "4m12.172s"
    assert go_duration(83909.144) == "23h18m29.144s"


def test_most_restrictive_enforced_budgets_only() -> None:
    decision = Decision(
        action="allow",
        states=(
            _state("account:requests", "requests", 60, 59, 1.0),
            _state("cluster:requests", "requests", 100, 12, 5.0),
            _state("shadowed", "requests", 10, 0, 9.0, mode="shadow"),
            _state("account:tokens", "tokens", 40000, 39000, 2.5),
        ),
    )
    headers = quota_headers(decision)
    assert headers["x-ratelimit-remaining-requests"] == "12"  # the cluster is tighter
    assert headers["x-ratelimit-limit-requests"] == "100"
    assert headers["x-ratelimit-reset-requests"] == "5s"
    assert headers["RateLimit-Policy"] == (
        '"requests";q=100;w=60, "tokens";q=40000;w=60;gw-unit="tokens"'
    )
    assert headers["RateLimit"] == '"requests";r=12;t=5, "tokens";r=39000;t=3'


def test_retry_headers_round_up_to_a_second() -> None:
    assert retry_headers(0.2) == {"Retry-After": "1", "retry-after-ms": "200"}
    assert retry_headers(6.604) == {"Retry-After": "7", "retry-after-ms": "6604"}
    assert retry_headers(float("inf")) == {}


def test_request_headers_filtering() -> None:
    incoming = CIMultiDictProxy(
        CIMultiDict(
            {
                "Host": "gw",
                "Authorization": "Bearer client-key",
                "Connection": "keep-alive, x-hop",
                "x-hop": "1",
                "Keep-Alive": "5",
                "TE": "trailers",
                "x-gateway-account": "mallory",
                "Gateway-PoW": "x",
                "X-Forwarded-For": "1.2.3.4",
                "Content-Type": "application/json",
                "OpenAI-Organization": "org-1",
            }
        )
    )
    out = upstream_request_headers(
        incoming,
        client_ip="5.6.7.8",
        scheme="https",
        upstream_key="sk-up",
        extra=[("x-gateway-account", "alice")],
    )
    assert out["Authorization"] == "Bearer sk-up"
    assert out["X-Forwarded-For"] == "1.2.3.4, 5.6.7.8"
    assert out["X-Forwarded-Proto"] == "https"
    assert out["x-gateway-account"] == "alice"
    assert out["Content-Type"] == "application/json"
    assert out["OpenAI-Organization"] == "org-1"
    for gone in ("Host", "Connection", "x-hop", "Keep-Alive", "TE", "Gateway-PoW"):
        assert gone not in out
    no_key = upstream_request_headers(
        incoming, client_ip="5.6.7.8", scheme="http", upstream_key=None
    )
    assert "Authorization" not in no_key  # the client's credential is never forwarded


def test_response_headers_filtering() -> None:
    upstream = CIMultiDictProxy(
        CIMultiDict(
            {
                "Content-Type": "text/event-stream",
                "Transfer-Encoding": "chunked",
                "Set-Cookie": "a=b",
                "x-ratelimit-remaining-requests": "5",
                "openai-processing-ms": "12",
                "Content-Length": "10",
                "Connection": "close",
            }
        )
    )
    out = client_response_headers(upstream)
    assert dict(out) == {"Content-Type": "text/event-stream", "openai-processing-ms": "12"}
