"""Auto-pipelining: the script calls of concurrent requests leave in one write.

Each call still is its own ``EVALSHA`` (its own atomic script run), but calls made in the
same event-loop tick share one pipeline: one connection checkout, one ``send`` and one read
loop instead of one each. Under load this roughly halves the client CPU of a budget check;
an isolated call (nothing else in flight) goes out at once. Plain Redis only (a cluster splits by
slot and takes the direct path).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from gateway.limiter.scripts import LuaScript

_Call = tuple[int, list[Any], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, client: Redis, script: LuaScript, *, max_batch: int = 256) -> None:
        self._client = client
        self._script = script
        self._max_batch = max_batch
        self._pending: list[_Call] = []
        self._flushing: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self._direct = 0

    async def run(self, numkeys: int, args: list[Any]) -> Any:
        if not self._direct and not self._flushing and not self._pending:
            self._direct += 1  # idle: go at once; calls arriving meanwhile will batch
            try:
                return await self._script.run(self._client, numkeys, args)
            finally:
                self._direct -= 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((numkeys, args, future))
        if len(self._pending) >= self._max_batch:
            self._start()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start)
        return await future

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
                numkeys, args, future = batch[0]
                replies: list[Any] = [await self._script.run(self._client, numkeys, args)]
            else:
                pipe = self._client.pipeline(transaction=False)
                for numkeys, args, _ in batch:
                    pipe.execute_command("EVALSHA", self._script.sha, numkeys, *args)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for _, _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (numkeys, args, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue  # the caller gave up (timeout, cancellation)
            if isinstance(reply, NoScriptError):
                self._retry(numkeys, args, future)
            elif isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def _retry(self, numkeys: int, args: list[Any], future: asyncio.Future[Any]) -> None:
        """A server without the script (restarted): one direct call loads it."""

        async def again() -> None:
            try:
                result = await self._script.run(self._client, numkeys, args)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
                return
            if not future.done():
                future.set_result(result)

        task = asyncio.get_running_loop().create_task(again())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)
