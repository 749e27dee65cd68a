"""Fewer Redis round trips: auto-pipelining of script calls, and command batches.

:class:`AutoPipeline`: each call still is its own ``EVALSHA`` (its own atomic script run),
but calls made in the same event-loop tick share one pipeline: one connection checkout, one
``send`` and one read loop instead of one each. Budget checks and settlements of concurrent
requests leave together. An isolated call (nothing else in flight) goes out at once. Plain
Redis only (a cluster splits by slot and takes the direct path).

:func:`run_batch`: many commands of one caller (a background worker's batch) in one
pipeline, in order, ``NOSCRIPT`` handled; on a Redis Cluster they run one by one, in order.
:func:`settle_all`: a batch of settlements through a store's ``settle_many`` when it has one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class SettlesMany(Protocol):
    """A store that settles a batch at once (fewer round trips than one by one)."""

    async def settle_many(self, settlements: Sequence[Settlement]) -> None: ...


async def settle_all(store: BudgetStore, settlements: Sequence[Settlement]) -> None:
    """Settle every settlement: in one batch when the store can, else concurrently."""
    if isinstance(store, SettlesMany):
        await store.settle_many(settlements)
    elif len(settlements) == 1:
        await store.settle(settlements[0])
    else:
        await asyncio.gather(*(store.settle(s) for s in settlements))


_Call = tuple[Script, int, list[Any], "asyncio.Future[Any]"]


class AutoPipeline:
    """Script calls of one event-loop tick share one pipeline (see the module docstring)."""

    def __init__(self, client: Redis, *, max_batch: int = 256) -> None:
        self._client = client
        self._max_batch = max_batch
        self._pending: list[_Call] = []
        self._flushing: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self._direct = 0

    async def run(self, script: Script, numkeys: int, args: list[Any]) -> Any:
        if not self._direct and not self._flushing and not self._pending:
            self._direct += 1  # idle: go at once; calls arriving meanwhile will batch
            try:
                return await script.run(self._client, numkeys, args)
            finally:
                self._direct -= 1
        return await self.submit(script, numkeys, args)

    def submit(self, script: Script, numkeys: int, args: list[Any]) -> asyncio.Future[Any]:
        """Queue a call for this tick's pipeline; its reply (or error) arrives in the future."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((script, numkeys, args, future))
        if len(self._pending) >= self._max_batch:
            self._start()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start)
        return future

    def _start(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._flush(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush(self, batch: list[_Call]) -> None:
        try:
            if len(batch) == 1:
                script, numkeys, args, _ = batch[0]
                replies: list[Any] = [await script.run(self._client, numkeys, args)]
            else:
                pipe = self._client.pipeline(transaction=False)
                for script, numkeys, args, _ in batch:
                    pipe.execute_command("EVALSHA", script.sha, numkeys, *args)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for *_, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (script, numkeys, args, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue  # the caller gave up (timeout, cancellation)
            if isinstance(reply, NoScriptError):
                self._retry(script, numkeys, args, future)
            elif isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def _retry(
        self, script: Script, numkeys: int, args: list[Any], future: asyncio.Future[Any]
    ) -> None:
        """A server without the script (restarted): one direct call loads it."""

        async def again() -> None:
            try:
                result = await script.run(self._client, numkeys, args)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
                return
            if not future.done():
                future.set_result(result)

        task = asyncio.get_running_loop().create_task(again())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)
