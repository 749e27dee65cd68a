"""Customer-side helper: recover from a proof-of-work challenge by itself.

With the openai SDK::

    client = with_pow(openai.OpenAI(base_url=..., api_key=...))
    client.chat.completions.create(...)   # a 403 challenge_required is solved and retried once

The transports wrap any httpx transport: on a 403 whose body has
``error.code == "challenge_required"`` they solve the challenge (SHA-256 leading zero bits)
and resend the same request once with the ``Gateway-PoW`` header. Also the CLI command
``gateway challenge solve --token T [--difficulty N]``, which prints the header value.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
from typing import TYPE_CHECKING, Any, cast

import jwt

from gateway.challenges.tokens import HEADER, header_value, solve

if TYPE_CHECKING:
    import httpx2
    import openai

MAX_DIFFICULTY = 26  # refuse absurd work (about 67M hashes)


def _httpx() -> Any:
    """The httpx flavour the installed openai SDK uses (httpx2 for openai >= 3, else httpx)."""
    try:
        return importlib.import_module("httpx2")
    except ImportError:  # pragma: no cover - older SDKs
        return importlib.import_module("httpx")


def challenge_of(response: httpx2.Response) -> tuple[str, int] | None:
    """(token, difficulty) of a 403 ``challenge_required`` response (body already read)."""
    if response.status_code != 403:
        return None
    try:
        error = json.loads(response.content).get("error") or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict) or error.get("code") != "challenge_required":
        return None
    challenge = error.get("challenge") or {}
    token, difficulty = challenge.get("token"), challenge.get("difficulty")
    if not isinstance(token, str) or not isinstance(difficulty, int):
        return None
    if challenge.get("algorithm", "sha-256") != "sha-256" or not 0 < difficulty <= MAX_DIFFICULTY:
        return None
    return token, difficulty


def _retry_request(request: httpx2.Request, token: str, nonce: str) -> httpx2.Request:
    headers = request.headers.copy()
    headers[HEADER] = header_value(token, nonce)
    return type(request)(
        request.method, request.url, headers=headers, content=request.content,
        extensions=request.extensions,
    )  # fmt: skip


class PowTransport:
    """A sync httpx transport that answers proof-of-work challenges once per request."""

    def __init__(self, inner: httpx2.BaseTransport | None = None) -> None:
        self._inner: httpx2.BaseTransport = inner or _httpx().HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        response = self._inner.handle_request(request)
        if response.status_code != 403:
            return response
        response.read()
        found = challenge_of(response)
        if found is None:
            return response
        token, difficulty = found
        response.close()
        return self._inner.handle_request(_retry_request(request, token, solve(token, difficulty)))

    def close(self) -> None:
        self._inner.close()


class AsyncPowTransport:
    """The asyncio variant; the work runs in a thread so the event loop keeps going."""

    def __init__(self, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self._inner: httpx2.AsyncBaseTransport = inner or _httpx().AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        response = await self._inner.handle_async_request(request)
        if response.status_code != 403:
            return response
        await response.aread()
        found = challenge_of(response)
        if found is None:
            return response
        token, difficulty = found
        await response.aclose()
        nonce = await asyncio.to_thread(solve, token, difficulty)
        return await self._inner.handle_async_request(_retry_request(request, token, nonce))

    async def aclose(self) -> None:
        await self._inner.aclose()


def with_pow(client: openai.OpenAI, inner: httpx2.BaseTransport | None = None) -> openai.OpenAI:
    """A copy of ``client`` whose requests solve proof-of-work challenges."""
    import openai

    transport = cast("httpx2.BaseTransport", PowTransport(inner))
    return client.with_options(http_client=openai.DefaultHttpxClient(transport=transport))


def with_pow_async(
    client: openai.AsyncOpenAI, inner: httpx2.AsyncBaseTransport | None = None
) -> openai.AsyncOpenAI:
    """The asyncio variant of :func:`with_pow`."""
    import openai

    transport = cast("httpx2.AsyncBaseTransport", AsyncPowTransport(inner))
    return client.with_options(http_client=openai.DefaultAsyncHttpxClient(transport=transport))


def _solve_command(args: argparse.Namespace) -> int:
    difficulty = args.difficulty
    if difficulty is None:
        claims = jwt.decode(args.token, options={"verify_signature": False})
        difficulty = int(claims["difficulty"])
    if not 0 < difficulty <= MAX_DIFFICULTY:
        print(f"difficulty must be in 1..{MAX_DIFFICULTY}")
        return 2
    nonce = solve(args.token, difficulty)
    print(
        f"{HEADER}: {header_value(args.token, nonce)}"
        if args.with_name
        else header_value(args.token, nonce)
    )
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``challenge solve`` to the main CLI."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "challenge", help="proof-of-work challenges (customer side)"
    )
    sub = parser.add_subparsers(dest="challenge_command", required=True, metavar="ACTION")
    solve_parser = sub.add_parser("solve", help="solve a challenge; print the Gateway-PoW value")
    solve_parser.add_argument("--token", required=True, help="error.challenge.token of the 403")
    solve_parser.add_argument(
        "--difficulty", type=int, help="leading zero bits (default: read from the token)"
    )
    solve_parser.add_argument(
        "--with-name", action="store_true", help='print "Gateway-PoW: <value>"'
    )
    solve_parser.set_defaults(func=_solve_command)
    return parser
