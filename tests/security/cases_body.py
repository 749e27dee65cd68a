"""Bodies: too large (declared, sent, chunked, compressed), malformed JSON, not UTF-8, deeply
nested, NaN/Infinity, and wrong types for the fields the gateway reads."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

from attack_http import Part, RawResponse
from corpus import Case, answered, chat, one, refused
from live_gateway import BODY_LIMIT, MARKER, Live

TOO_LARGE = "request_too_large"
INVALID_JSON = "invalid_json"


def _body(name: str, body: bytes, statuses: set[int], code: str | None = None) -> Case:
    def build(live: Live) -> list[Part]:
        return one(chat(live, body=body))

    return refused(name, build, statuses, code)


def _responses(live: Live, **fields: Any) -> list[Part]:
    """A Responses API request (its prompt in ``input``)."""
    body = live.body(input=f"{MARKER} say hello", **fields)
    payload = json.loads(body)
    del payload["messages"]
    return one(chat(live, body=json.dumps(payload).encode(), target="/v1/responses"))


def _large(live: Live) -> bytes:
    return live.body(padding="x" * (BODY_LIMIT + 10))


def _chunked_large(live: Live) -> list[Part]:
    body = _large(live)
    chunks = b"".join(
        f"{len(body[i : i + 8192]):x}\r\n".encode() + body[i : i + 8192] + b"\r\n"
        for i in range(0, len(body), 8192)
    )
    return one(chat(live, [("Transfer-Encoding", "chunked")], chunks + b"0\r\n\r\n"))


def _gzip_bomb(live: Live) -> list[Part]:
    body = gzip.compress(live.body(padding="0" * (BODY_LIMIT * 16)))
    return one(chat(live, [("Content-Encoding", "gzip")], body))


SIZE_CASES = [
    refused("body-too-large-declared",
            lambda live: one(chat(live, [("Content-Length", str(BODY_LIMIT * 4))], b"{")),
            {413}, TOO_LARGE),
    refused("body-too-large-sent", lambda live: one(chat(live, body=_large(live))), {413},
            TOO_LARGE),
    refused("body-too-large-chunked", _chunked_large, {413}, TOO_LARGE),
    refused("body-gzip-bomb", _gzip_bomb, {400, 413}),
    refused("body-gzip-declared-not-gzip",
            lambda live: one(chat(live, [("Content-Encoding", "gzip")], live.body())), {400},
            "invalid_body"),
    refused("body-max-tokens-beyond-the-burst",
            lambda live: one(chat(live, body=live.body(max_tokens=10**15))), {429},
            "rate_limit_exceeded"),
    # the Responses API's output limit is reserved too, not the policy's default
    refused("body-max-output-tokens-beyond-the-burst",
            lambda live: _responses(live, max_output_tokens=10**15), {429},
            "rate_limit_exceeded"),
]  # fmt: skip

_M = f'"{MARKER}"'.encode()
MALFORMED_CASES = [
    _body("json-empty-body", b"", {400}, INVALID_JSON),
    _body("json-open-brace", b"{", {400}, INVALID_JSON),
    _body("json-missing-value", b'{"model": , "p": ' + _M + b"}", {400}, INVALID_JSON),
    _body("json-trailing-comma", b'{"model": "m", "p": ' + _M + b",}", {400}, INVALID_JSON),
    _body("json-trailing-garbage", b'{"p": ' + _M + b"} trailing", {400}, INVALID_JSON),
    _body("json-single-quotes", b"{'model': 'm', 'p': " + _M + b"}", {400}, INVALID_JSON),
    _body("json-comment", b'{"p": ' + _M + b" /* hi */}", {400}, INVALID_JSON),
    _body("json-array", b"[" + _M + b"]", {400}, INVALID_JSON),
    _body("json-string", _M, {400}, INVALID_JSON),
    _body("json-null", b"null", {400}, INVALID_JSON),
    _body("json-number", b"42", {400}, INVALID_JSON),
    _body("json-utf8-bom", b'\xef\xbb\xbf{"p": ' + _M + b"}", {400}, INVALID_JSON),
    _body("json-not-utf8-latin1", b'{"p": "\xe9\xff ' + MARKER.encode() + b'"}', {400},
          INVALID_JSON),
    _body("json-utf16", ('{"p": ' + _M.decode() + "}").encode("utf-16"), {400}, INVALID_JSON),
    _body("json-overlong-utf8", b'{"p": "\xc0\xae ' + MARKER.encode() + b'"}', {400},
          INVALID_JSON),
    _body("json-lone-surrogate-escape", b'{"p": "\\ud800 ' + MARKER.encode() + b'"}', {400},
          INVALID_JSON),
    _body("json-deeply-nested-arrays", b'{"p": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
          {400}, INVALID_JSON),
    _body("json-deeply-nested-objects", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, {400},
          INVALID_JSON),
    _body("json-nan", b'{"model": "m", "temperature": NaN, "p": ' + _M + b"}", {400},
          INVALID_JSON),
    _body("json-infinity", b'{"model": "m", "max_tokens": Infinity, "p": ' + _M + b"}", {400},
          INVALID_JSON),
    _body("json-negative-infinity", b'{"max_tokens": -Infinity, "p": ' + _M + b"}", {400},
          INVALID_JSON),
    _body("json-number-overflow", b'{"max_tokens": 1e999, "p": ' + _M + b"}", {400},
          INVALID_JSON),
    _body("json-integer-beyond-64-bits", b'{"max_tokens": 123456789012345678901234567890, '
          b'"p": ' + _M + b"}", {400}),
]  # fmt: skip


def _typed(name: str, **fields: Any) -> Case:
    """A wrong type for a field the gateway reads (it would read it one way, a lenient upstream
    another): 400 ``invalid_type`` naming the field."""

    def build(live: Live) -> list[Part]:
        return one(chat(live, body=live.body(**fields)))

    return refused(name, build, {400}, "invalid_type")


TYPE_CASES = [
    _typed("type-model-number", model=123),
    _typed("type-model-null", model=None),
    _typed("type-model-list", model=["mock-gpt"]),
    _typed("type-model-object", model={"id": "mock-gpt"}),
    _typed("type-messages-string", messages=f"{MARKER} hi"),
    _typed("type-messages-object", messages={"role": "user", "content": MARKER}),
    _typed("type-messages-null", messages=None),
    _typed("type-messages-numbers", messages=[1, 2, MARKER]),
    _typed("type-message-role-number", messages=[{"role": 1, "content": MARKER}]),
    _typed("type-message-content-number", messages=[{"role": "user", "content": 5}]),
    _typed("type-message-content-object", messages=[{"role": "user", "content": {"t": MARKER}}]),
    _typed("type-max-tokens-string", max_tokens="10"),
    _typed("type-max-tokens-negative", max_tokens=-5),
    _typed("type-max-tokens-float", max_tokens=10.5),
    _typed("type-max-tokens-bool", max_tokens=True),
    _typed("type-max-tokens-list", max_tokens=[10]),
    _typed("type-stream-string", stream="yes"),
    _typed("type-stream-number", stream=1),
    _typed("type-stream-object", stream={"on": True}),
    _typed("type-stream-options-string", stream=True, stream_options="usage"),
    _typed("type-n-string", n="2"),
    _typed("type-n-negative", n=-1),
]


async def _forwarded(live: Live, response: RawResponse) -> None:
    assert response.status == 200, response.body[:300]


def _detection_junk(name: str, build: Callable[[Live], list[Part]]) -> Case:
    """A wrong type for a field only detection reads (its features read it as absent): not
    the gateway's to refuse, and never an error of its own; the upstream answers."""
    return answered(name, build, _forwarded)


DETECTION_ONLY_CASES = [
    _detection_junk("detection-reasoning-effort-list",
                    lambda live: one(chat(live, body=live.body(reasoning_effort=["high"])))),
    _detection_junk("detection-reasoning-effort-object",
                    lambda live: one(chat(live, body=live.body(reasoning={"effort": {}})))),
    _detection_junk("detection-reasoning-summary-object",
                    lambda live: _responses(live, reasoning={"summary": {"x": 1}})),
]  # fmt: skip

CASES = [*SIZE_CASES, *MALFORMED_CASES, *TYPE_CASES, *DETECTION_ONLY_CASES]
