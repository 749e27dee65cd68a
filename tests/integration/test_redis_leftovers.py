"""The end-of-session check for Redis keys that tests leave behind (``tests/conftest.py``)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis_servers import Prefixes


@pytest.mark.redis
async def test_leftovers_lists_keys_under_issued_prefixes_only(
    redis_url: str, redis_client: Redis
) -> None:
    registry = Prefixes()
    registry.url = redis_url
    issued, stranger = registry.new(), Prefixes().new()
    try:
        await redis_client.set(f"{issued}:{{g:x}}:audit", "1")  # no TTL, like the old leak
        await redis_client.set(f"{stranger}:k", "1", ex=60)  # another session's key
        assert registry.leftovers() == [f"{issued}:{{g:x}}:audit"]
        await redis_client.delete(f"{issued}:{{g:x}}:audit")
        assert registry.leftovers() == []
    finally:
        await redis_client.delete(f"{issued}:{{g:x}}:audit", f"{stranger}:k")
