"""The Lua scripts of the Redis store, shipped as ``lua/*.lua`` and called by SHA.

``EVALSHA`` on the hot path; on ``NOSCRIPT`` (a restarted or new node) the script is sent
once with ``EVAL``, which also caches it on that server. Works on a plain Redis and on a
Redis Cluster (redis-py routes EVALSHA by its first key).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

RedisClient = Redis | RedisCluster


class LuaScript:
    """One script: its source and SHA-1."""

    __slots__ = ("name", "sha", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.text = resources.files("gateway.limiter").joinpath("lua", f"{name}.lua").read_text()
        self.sha = hashlib.sha1(self.text.encode()).hexdigest()

    async def run(self, client: RedisClient, numkeys: int, args: list[Any]) -> Any:
        """``args`` holds the keys first, then ARGV."""
        try:
            return await client.execute_command("EVALSHA", self.sha, numkeys, *args)
        except NoScriptError:
            return await client.execute_command("EVAL", self.text, numkeys, *args)


class Scripts:
    """The store's scripts, read once per store."""

    __slots__ = ("acquire", "flag", "level", "refresh", "settle")

    def __init__(self) -> None:
        self.acquire = LuaScript("acquire")
        self.settle = LuaScript("settle")
        self.refresh = LuaScript("refresh")
        self.level = LuaScript("level")
        self.flag = LuaScript("flag")
