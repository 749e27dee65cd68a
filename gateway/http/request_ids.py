"""Request ids: the gateway's own, and the client's ``x-request-id`` it echoes.

Every request gets the gateway's own id, and only that id is used inside the gateway: as the
lease id of its concurrency slots, in store calls and settlements. A client's ``x-request-id``
is never an internal id (clients sending the same value would share one concurrency lease);
it is echoed in the response and logged, and only when it is printable ASCII of at most
:data:`MAX_CLIENT_ID` characters. Any other value (too long, control characters, non-ASCII,
bytes that are not UTF-8) is dropped and the gateway's own id is echoed instead.
"""

from __future__ import annotations

import itertools
import re
import secrets

from gateway.http.responses import REQUEST_ID_HEADER

__all__ = ["MAX_CLIENT_ID", "REQUEST_ID_HEADER", "RequestIds", "client_request_id"]

MAX_CLIENT_ID = 128
_PRINTABLE_ASCII = re.compile(rf"[\x20-\x7e]{{1,{MAX_CLIENT_ID}}}")


class RequestIds:
    """32 hex digits: a random per-process prefix, then a counter. Unique across replicas
    and workers like a UUID, without a system call for randomness on every request."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(10)
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


def client_request_id(value: str | None) -> str | None:
    """The client's ``x-request-id`` when it may be echoed and logged, else None.

    aiohttp hands header bytes that are not UTF-8 over as lone surrogates; the pattern
    admits none of them, nor anything outside printable ASCII."""
    if value is None or _PRINTABLE_ASCII.fullmatch(value) is None:
        return None
    return value
