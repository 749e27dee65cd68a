"""Request ids: unique within a process and across processes, UUID-sized."""

from __future__ import annotations

import re

from gateway.http.request_ids import RequestIds


def test_request_ids_are_unique_32_hex_digits_and_differ_between_processes() -> None:
    one, other = RequestIds(), RequestIds()
    ids = [one.next() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert other.next()[:20] != ids[0][:20]  # another process (worker, replica) prefix
