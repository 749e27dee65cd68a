"""Fewer Redis round trips off the hot path: command batches and settlement batches.

(The hot path's budget checks and settlements share one auto-pipelined connection:
:mod:`gateway.limiter.mux`.)

:func:`run_batch`: many commands of one caller (a background worker's batch) in one
pipeline, in order, ``NOSCRIPT`` handled; on a Redis Cluster they run one by one, in order.
:func:`settle_all`: a batch of settlements through a store's ``settle_many`` when it has one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from gateway.limiter.scripts import RedisClient
from gateway.limiter.store import BudgetStore
from gateway.model import Settlement


class Script(Protocol):
    """A Lua script called by SHA (``gateway.limiter.scripts.LuaScript``, :class:`Source`)."""

    @property
    def sha(self) -> str: ...

    @property
    def text(self) -> str: ...

    async def run(self, client: RedisClient, numkeys: int, args: list[Any]) -> Any: ...


class Source:
    """A script given by its text (other subsystems' ``lua/*.lua``)."""

    __slots__ = ("sha", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def call(self, numkeys: int, args: Iterable[Any]) -> tuple[Any, ...]:
        """The ``EVALSHA`` command for :func:`run_batch`."""
        return ("EVALSHA", self.sha, numkeys, *args)

    async def run(self, client: RedisClient, numkeys: int, args: list[Any]) -> Any:
        try:
            return await client.execute_command("EVALSHA", self.sha, numkeys, *args)
        except NoScriptError:
            return await client.execute_command("EVAL", self.text, numkeys, *args)


async def run_batch(
    client: RedisClient, commands: Sequence[tuple[Any, ...]], scripts: Sequence[Script] = ()
) -> list[Any]:
    """Run ``commands`` in order in one pipeline; replies in order (errors as exceptions,
    never raised). ``EVALSHA`` of a script the server lost (restart) is reloaded from
    ``scripts`` and retried, after the rest of the batch. Connection failures raise."""
    if not commands:
        return []
    if not isinstance(client, Redis):
        return [await _one(client, command, scripts) for command in commands]
    replies = await _pipeline(client, commands)
    lost = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if lost:
        for script in scripts:
            await client.script_load(script.text)
        again = await _pipeline(client, [commands[i] for i in lost])
        for i, reply in zip(lost, again, strict=True):
            replies[i] = reply
    return replies


async def _pipeline(client: Redis, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    replies: list[Any] = await pipe.execute(raise_on_error=False)
    return replies


async def _one(client: RedisClient, command: tuple[Any, ...], scripts: Sequence[Script]) -> Any:
    try:
        return await client.execute_command(*command)
    except NoScriptError:
        sha = command[1]
        text = next(s.text for s in scripts if s.sha == sha)
        return await client.execute_command("EVAL", text, *command[2:])
    except ResponseError as exc:  # a command's own error: reported in place, like a pipeline
        return exc


async def settle_all(store: BudgetStore, settlements: Sequence[Settlement]) -> None:
    """Settle every settlement: in one batch when the store can, else concurrently."""
    many = getattr(store, "settle_many", None)  # a runtime Protocol check costs ~10 µs
    if many is not None:
        await many(settlements)
    elif len(settlements) == 1:
        await store.settle(settlements[0])
    else:
        await asyncio.gather(*(store.settle(s) for s in settlements))
