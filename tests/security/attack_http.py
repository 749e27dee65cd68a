"""HTTP/1.1 over raw asyncio streams: the bytes are sent exactly as written.

An HTTP client library normalises what an attacker would not (it refuses CR/LF in header
values, folds duplicate headers, recomputes Content-Length, encodes paths), so the corpus
writes requests by hand. A request is a sequence of parts: bytes are written, a float is a
pause in seconds (a slow or stalled client). Every response on the connection is read, so a
smuggled second request that got an answer is seen.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict

Part = bytes | float


class NoAnswer(AssertionError):
    """The gateway sent nothing (or an unfinished response) before the deadline."""


@dataclass
class RawResponse:
    status: int
    headers: CIMultiDict[str]
    body: bytes
    elapsed: float  # seconds from the first byte sent to the end of this response

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    content_length: bool = True,
) -> bytes:
    """One request's bytes; ``Host`` and ``Connection: close`` unless given, and a
    ``Content-Length`` matching ``body`` when ``content_length`` (and none is given)."""
    names = {name.lower() for name, _ in headers}
    lines = [f"{method} {target} {version}"]
    if "host" not in names:
        lines.append("Host: 127.0.0.1")
    lines += [f"{name}: {value}" for name, value in headers]
    if content_length and body and not names & {"content-length", "transfer-encoding"}:
        lines.append(f"Content-Length: {len(body)}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def exchange(
    host: str, port: int, parts: Sequence[Part], *, within: float, linger: float = 0.3
) -> list[RawResponse]:
    """Send ``parts``, then read responses until the server closes the connection, or sends
    nothing more for ``linger`` seconds after a complete response. Raises :class:`NoAnswer`
    when no complete response came within ``within`` seconds of the first byte."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    deadline = started + within
    try:
        sender = asyncio.create_task(_send(writer, parts))
        responses: list[RawResponse] = []
        try:
            while True:
                limit = deadline if not responses else min(deadline, time.monotonic() + linger)
                try:
                    response = await _read_response(reader, limit, started)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    break
                if response is None:  # the server closed the connection
                    break
                if response.status >= 200:
                    responses.append(response)
                if response.headers.get("Connection", "").lower() == "close":
                    break
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        if not responses:
            raise NoAnswer(f"no complete answer within {within}s")
        return responses
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def _send(writer: asyncio.StreamWriter, parts: Sequence[Part]) -> None:
    for part in parts:
        if isinstance(part, float):
            await asyncio.sleep(part)
        else:
            writer.write(part)
            await writer.drain()


async def _read_response(
    reader: asyncio.StreamReader, deadline: float, started: float
) -> RawResponse | None:
    async def within(coro: Any) -> Any:
        return await asyncio.wait_for(coro, max(0.0, deadline - time.monotonic()))

    try:
        head: bytes = await within(reader.readuntil(b"\r\n\r\n"))
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: CIMultiDict[str] = CIMultiDict()
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    body = b""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        body = await within(_read_chunked(reader))
    elif "Content-Length" in headers:
        body = await within(reader.readexactly(int(headers["Content-Length"])))
    elif status >= 200 and status not in (204, 304):
        body = await within(reader.read())
    return RawResponse(status, headers, body, time.monotonic() - started)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the empty trailer section
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
