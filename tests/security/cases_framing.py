"""Framing: request smuggling (CL+TE, TE+CL, duplicate CL, TE lists, obs-fold), header
injection, odd request lines and HTTP versions, slow and stalled clients."""

from __future__ import annotations

from attack_http import Part
from corpus import CHAT, Case, chat, one, refused, send
from live_gateway import CLIENT_TIMEOUT, Live

# Hidden after the first request's body: answered only if the framing was misread.
SMUGGLED = b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Smuggled: 1\r\n\r\n"


def _head(live: Live, lines: list[bytes], target: str = CHAT) -> bytes:
    auth = f"Authorization: Bearer {live.keys['alice']}".encode()
    return (
        b"\r\n".join([f"POST {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", auth,
                      b"Content-Type: application/json", *lines]) + b"\r\n\r\n"
    )  # fmt: skip


def _smuggle(name: str, lines: list[bytes], body: bytes) -> Case:
    """The first request must be refused, and the request hidden in it never answered."""

    async def run(live: Live) -> None:
        before = (await live.mock_stats())["endpoints"].get("models", 0)
        responses = await send(live, [_head(live, lines) + body], 5.0)
        statuses = [r.status for r in responses]
        assert all(400 <= s < 500 for s in statuses), f"answers {statuses}"
        assert (await live.mock_stats())["endpoints"].get("models", 0) == before

    return Case(name, run, 6.0)


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


_JSON = b'{"model": "mock-gpt", "messages": []}'
_CHUNKED = _chunk(_JSON) + b"0\r\n\r\n" + SMUGGLED
_CL = f"Content-Length: {len(_JSON)}".encode()

SMUGGLING_CASES = [
    _smuggle("smuggle-cl-then-te", [_CL, b"Transfer-Encoding: chunked"], _CHUNKED),
    _smuggle("smuggle-te-then-cl", [b"Transfer-Encoding: chunked", _CL], _CHUNKED),
    _smuggle("smuggle-cl-small-te-chunked",
             [b"Content-Length: 4", b"Transfer-Encoding: chunked"], _CHUNKED),
    _smuggle("smuggle-duplicate-cl-different",
             [b"Content-Length: 0", _CL], _JSON + SMUGGLED),
    _smuggle("smuggle-duplicate-cl-list", [b"Content-Length: 0, 37"], _JSON + SMUGGLED),
    _smuggle("smuggle-te-chunked-identity",
             [b"Transfer-Encoding: chunked, identity"], _CHUNKED),
    _smuggle("smuggle-te-identity-chunked-with-cl",
             [b"Transfer-Encoding: identity, chunked", b"Content-Length: 4"], _CHUNKED),
    _smuggle("smuggle-te-obs-fold", [b"Transfer-Encoding:", b" chunked", _CL], _CHUNKED),
    _smuggle("smuggle-cl-obs-fold", [b"Content-Length:", b" 4"], _JSON + SMUGGLED),
    _smuggle("smuggle-te-xchunked", [b"Transfer-Encoding: xchunked", _CL], _CHUNKED),
    _smuggle("smuggle-te-space-before-colon", [b"Transfer-Encoding : chunked", _CL], _CHUNKED),
    _smuggle("smuggle-cl-plus-sign", [b"Content-Length: +37"], _JSON + SMUGGLED),
    _smuggle("smuggle-cl-negative", [b"Content-Length: -1"], _JSON + SMUGGLED),
    _smuggle("smuggle-cl-hex", [b"Content-Length: 0x25"], _JSON + SMUGGLED),
    _smuggle("smuggle-chunk-size-overflow", [b"Transfer-Encoding: chunked"],
             b"fffffffffffffffffffff\r\n" + _JSON + b"\r\n0\r\n\r\n" + SMUGGLED),
    _smuggle("smuggle-chunk-size-garbage", [b"Transfer-Encoding: chunked"],
             b"zz\r\n" + _JSON + b"\r\n0\r\n\r\n" + SMUGGLED),
]  # fmt: skip


async def _injected_account_stripped(live: Live) -> None:
    """A CR LF in a header value is a new header line: the spoofed identity must not pass."""
    body = live.body()
    lines = [b"X-Note: hello\r\nX-Gateway-Account: mallory", b"Content-Length: %d" % len(body)]
    responses = await send(live, [_head(live, lines) + body], 5.0)
    assert responses[0].status == 200, responses[0].body[:300]
    seen = (await live.mock_stats())["last_request"]["headers"]
    assert seen["x-gateway-account"] == "alice"


async def _bare_lf_injection(live: Live) -> None:
    """A bare LF: refused, or (read as a line end) the spoofed identity still never passes."""
    body = live.body()
    lines = [b"X-Note: hello\nX-Gateway-Account: mallory", b"Content-Length: %d" % len(body)]
    responses = await send(live, [_head(live, lines) + body], 5.0)
    if responses[0].status == 200:
        seen = (await live.mock_stats())["last_request"]["headers"]
        assert seen["x-gateway-account"] == "alice"
    else:
        assert responses[0].status == 400


def _line(name: str, line: bytes, statuses: set[int]) -> Case:
    """A raw request line (and a Host header)."""

    def build(live: Live) -> list[Part]:
        return one(line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")

    return refused(name, build, statuses)


REQUEST_LINE_CASES = [
    _line("http-2.0-request-line", b"GET /healthz HTTP/2.0", {400}),
    _line("http-2.0-preface-pri", b"PRI * HTTP/2.0\r\n\r\nSM", {400}),
    _line("http-3.0-request-line", b"GET /healthz HTTP/3.0", {400}),
    _line("http-1.2-request-line", b"GET /v1/models HTTP/1.2", {400}),
    _line("http-lowercase-version", b"GET /v1/models http/1.1", {400}),
    _line("http-0.9-no-version", b"GET /v1/models", {400, 401}),
    _line("request-line-tls-client-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", {400}),
    _line("request-line-bad-method-token", b"G@T /v1/models HTTP/1.1", {400}),
    _line("request-line-url-16k", b"GET /v1/" + b"a" * 16384 + b" HTTP/1.1", {400, 414}),
    _line("request-line-nul-in-path", b"GET /v1/mo\x00dels HTTP/1.1", {400}),
    _line("request-line-space-in-path", b"GET /v1/mo dels HTTP/1.1", {400}),
]  # fmt: skip

INJECTION_CASES = [
    Case("header-crlf-injected-x-gateway-account-stripped", _injected_account_stripped),
    Case("header-bare-lf-injection", _bare_lf_injection),
    refused("header-obs-fold",
            lambda live: one(_head(live, [b"X-Folded: a", b" b", _CL]) + _JSON), {400}),
]  # fmt: skip


def _stalled(name: str, parts: list[Part]) -> Case:
    """The client stops sending: 408 with an error body soon after the client timeout."""
    return refused(name, lambda live: parts, {408}, timeout=CLIENT_TIMEOUT + 3)


def _stalled_auth(name: str, build_tail: bytes) -> Case:
    def build(live: Live) -> list[Part]:
        return [_head(live, [b"Connection: close"]).removesuffix(b"\r\n") + build_tail]

    return refused(name, build, {408}, timeout=CLIENT_TIMEOUT + 3)


TIMEOUT_CASES = [
    _stalled("stalled-headers", [b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"]),
    _stalled("stalled-request-line", [b"POST /v1/chat/comp"]),
    _stalled("slow-headers-drip", [b"GET /healthz HTTP/1.1\r\n", 0.4, b"Host: 1", 0.4,
                                   b"27.0.0.1\r\n", 0.4, b"X-A: 1\r\n", 0.4, b"X-B: 2\r\n"]),
    _stalled_auth("stalled-body", b"Content-Length: 200\r\n\r\n" + _JSON[:10]),
    _stalled_auth("lying-content-length-longer", b"Content-Length: 5000\r\n\r\n" + _JSON),
    _stalled_auth("chunked-without-end",
                  b"Transfer-Encoding: chunked\r\n\r\n" + _chunk(_JSON[:10]) + _chunk(_JSON[10:])),
]  # fmt: skip


async def _shorter_content_length(live: Live) -> None:
    """Content-Length shorter than the body: the rest is a second, bad request; both are
    refused with error bodies (no 5xx, no success)."""
    responses = await send(live, [_head(live, [b"Content-Length: 12"]) + _JSON], 5.0)
    assert responses[0].status == 400, responses[0].body[:300]
    assert all(r.status == 400 for r in responses)


CASES = [
    *SMUGGLING_CASES,
    *INJECTION_CASES,
    *REQUEST_LINE_CASES,
    *TIMEOUT_CASES,
    Case("lying-content-length-shorter", _shorter_content_length),
    refused("expect-100-continue-too-large",
            lambda live: one(chat(live, [("Expect", "100-continue"),
                                         ("Content-Length", "999999999")], b"")),
            {413}, "request_too_large"),
]  # fmt: skip
