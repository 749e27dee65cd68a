"""Raw HTTP/1 exchanges over asyncio streams, for requests no HTTP client would send.

``exchange`` writes the given pieces (bytes; a float is a pause, in seconds), then reads
until the server closes the connection or ``wait`` seconds pass, and parses the responses.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The OpenAI-style error object (fails if the body is anything else)."""
        data = self.json()
        assert set(data) == {"error"}, data
        assert {"message", "type", "param", "code"} <= set(data["error"]), data
        error: dict[str, Any] = data["error"]
        return error


@dataclass
class Exchange:
    responses: list[RawResponse] = field(default_factory=list)
    closed: bool = False  # the server closed the connection within the wait
    raw: bytes = b""
    unsent: int = 0  # pieces not written: the server had closed the connection

    @property
    def last(self) -> RawResponse:
        assert self.responses, f"no response: {self.raw[:200]!r}"
        return self.responses[-1]


def parse_responses(raw: bytes) -> list[RawResponse]:
    out: list[RawResponse] = []
    rest = raw
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append(RawResponse(status, headers, rest[:length]))
        rest = rest[length:]
    return out


async def exchange(url: str, *pieces: bytes | float, wait: float = 5.0) -> Exchange:
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "::1")  # loopback only
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    result = Exchange()
    try:
        for i, piece in enumerate(pieces):
            if isinstance(piece, float):
                await asyncio.sleep(piece)
                continue
            if reader.at_eof() or writer.is_closing():
                result.unsent = sum(1 for p in pieces[i:] if isinstance(p, bytes))
                break
            try:
                writer.write(piece)
                await writer.drain()
            except ConnectionError:
                result.unsent = sum(1 for p in pieces[i:] if isinstance(p, bytes))
                break
        chunks: list[bytes] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (left := deadline - loop.time()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except TimeoutError:
                break
            except ConnectionError:  # reset, or a failed write of ours surfacing here
                result.closed = True
                break
            if not chunk:
                result.closed = True
                break
            chunks.append(chunk)
        result.raw = b"".join(chunks)
        result.responses = parse_responses(result.raw)
    finally:
        writer.close()
    if result.unsent:
        result.closed = True
    return result


def request(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    version: str = "HTTP/1.1",
) -> bytes:
    lines = [f"{method} {path} {version}", "Host: gateway"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
