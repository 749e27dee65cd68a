"""The corpus vocabulary: a named case, the request builders and the assertions every case
shares (a 4xx with an OpenAI-style error body, or the documented success; never a 5xx; never
slower than the case's timeout).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from attack_http import Part, RawResponse, exchange, request
from live_gateway import HOST, Live
from multidict import CIMultiDict

CHAT = "/v1/chat/completions"
ERROR_FIELDS = {"message", "type", "param", "code"}


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Live], Awaitable[None]]
    timeout: float = 5.0


def _show(response: RawResponse) -> str:
    return f"status {response.status}, body {response.body[:300]!r}"


def error_of(response: RawResponse, statuses: Collection[int], code: str | None = None) -> Any:
    """The ``error`` object of an OpenAI-style error body with one of ``statuses``."""
    assert response.status in statuses, f"expected {sorted(statuses)}: {_show(response)}"
    try:
        body = json.loads(response.body)
    except ValueError:
        raise AssertionError(f"not a JSON body: {_show(response)}") from None
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), _show(response)
    error = body["error"]
    assert set(error) >= ERROR_FIELDS, f"error fields {sorted(error)}: {_show(response)}"
    assert isinstance(error["message"], str) and error["message"], _show(response)
    if code is not None:
        assert error["code"] == code, f"expected code {code}: {_show(response)}"
    return error


def clean(response: RawResponse) -> None:
    """Any answer: never a 5xx; a 4xx has an OpenAI-style body."""
    assert response.status < 500, _show(response)
    if response.status >= 400:
        error_of(response, {response.status})


def bearer(live: Live, account: str = "alice") -> tuple[str, str]:
    return ("Authorization", f"Bearer {live.keys[account]}")


def chat(
    live: Live,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    *,
    target: str = CHAT,
    account: str | None = "alice",
) -> bytes:
    """A POST with JSON content type, the account's key unless ``account`` is None."""
    auth = [bearer(live, account)] if account else []
    sent = [("Content-Type", "application/json"), *auth, *headers]
    return request("POST", target, sent, live.body() if body is None else body)


async def send(
    live: Live, parts: Sequence[Part], within: float, *, admin: bool = False
) -> list[RawResponse]:
    port = live.admin_port if admin else live.port
    responses = await exchange(HOST, port, parts, within=within)
    for response in responses:
        clean(response)
    return responses


def refused(
    name: str,
    build: Callable[[Live], Sequence[Part]],
    statuses: Collection[int],
    code: str | None = None,
    *,
    timeout: float = 5.0,
    admin: bool = False,
) -> Case:
    """A case whose first answer must be an error with one of ``statuses`` (and ``code``)."""

    async def run(live: Live) -> None:
        responses = await send(live, build(live), timeout, admin=admin)
        error_of(responses[0], statuses, code)

    return Case(name, run, timeout + 1)


def answered(
    name: str,
    build: Callable[[Live], Sequence[Part]],
    check: Callable[[Live, RawResponse], Awaitable[None]],
    *,
    timeout: float = 5.0,
) -> Case:
    """A case with its own check of the first answer (after the shared ones)."""

    async def run(live: Live) -> None:
        responses = await send(live, build(live), timeout)
        await check(live, responses[0])

    return Case(name, run, timeout + 1)


def one(parts: bytes) -> list[Part]:
    return [parts]


async def call(
    live: Live,
    account: str | None = "alice",
    headers: dict[str, str] | None = None,
    *,
    path: str = CHAT,
    method: str = "POST",
    body: bytes | None = None,
) -> RawResponse:
    """A well-formed request through an HTTP client (when the bytes need no care)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if account:
        sent["Authorization"] = f"Bearer {live.keys[account]}"
    data = (live.body() if body is None else body) if method == "POST" else None
    async with live.http.request(method, live.url + path, headers=sent, data=data) as response:
        raw = RawResponse(response.status, CIMultiDict(response.headers), await response.read(), 0)
    clean(raw)
    return raw


async def held_slots(live: Live) -> dict[str, int]:
    """Concurrency slots held in Redis (sorted sets of unexpired request ids), by key."""
    held: dict[str, int] = {}
    now = time.time()
    async for key in live.redis.scan_iter(match=f"{live.prefix}*concurrency"):
        count = await live.redis.zcount(key, now, "+inf")
        if count:
            held[key.decode()] = count
    return held
