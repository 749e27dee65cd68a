"""Every Lua script of every package, loaded one way and called by SHA.

A script stays a ``lua/<name>.lua`` file next to the package that owns its logic
(``gateway.limiter``, ``gateway.clusters``, ``gateway.detection``); its owner registers it
by name in a :class:`ScriptRegistry`, optionally after shared preludes (the cluster graph's
``common.lua``). ``EVALSHA`` on the hot path; on ``NOSCRIPT`` (a restarted, flushed or new
node) the script is sent once with ``EVAL``, which also caches it on that server. Works on a
plain Redis and on a Redis Cluster (redis-py routes EVALSHA by its first key), through
:mod:`.batch` pipelines and through the multiplexer (:mod:`.mux`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

from gateway.redis.client import RedisClient


class Script:
    """One script: its name, text and SHA-1."""

    __slots__ = ("name", "sha", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def call(self, numkeys: int, args: Iterable[Any]) -> tuple[Any, ...]:
        """The ``EVALSHA`` command, for a batch (:func:`gateway.redis.batch.run_batch`)."""
        return ("EVALSHA", self.sha, numkeys, *args)

    async def run(self, client: RedisClient, numkeys: int, args: list[Any]) -> Any:
        """``args`` holds the keys first, then ARGV."""
        try:
            return await client.execute_command("EVALSHA", self.sha, numkeys, *args)
        except NoScriptError:
            return await client.execute_command("EVAL", self.text, numkeys, *args)


class ScriptRegistry:
    """The scripts of one package, by name: ``lua/<name>.lua`` read once, at registration."""

    def __init__(self, package: str, names: Sequence[str], *, prelude: Sequence[str] = ()):
        folder = resources.files(package) / "lua"
        shared = [(folder / f"{p}.lua").read_text(encoding="utf-8") for p in prelude]
        self.package = package
        self._scripts: dict[str, Script] = {}
        for name in names:
            body = (folder / f"{name}.lua").read_text(encoding="utf-8")
            self._scripts[name] = Script(f"{package}:{name}", "\n".join([*shared, body]))

    def __getitem__(self, name: str) -> Script:
        return self._scripts[name]

    def __iter__(self) -> Iterator[Script]:
        return iter(self._scripts.values())
