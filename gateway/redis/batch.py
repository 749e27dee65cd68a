"""Many commands of one caller (a background worker's batch) in one round trip.

:func:`run_batch` sends them in one pipeline, in order, ``NOSCRIPT`` handled; on a Redis
Cluster they run one by one, in order. (The budget hot path has its own shared,
auto-pipelined connection: :mod:`gateway.redis.mux`.)

A pipeline's replies are read under one deadline, the client's ``socket_timeout`` plus
:data:`PER_COMMAND` per command, not one timer per reply (see
:mod:`gateway.redis.packing`): a Redis that stops answering still fails the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from gateway.redis.client import RedisClient
from gateway.redis.packing import caller_deadline
from gateway.redis.scripts import Script

PER_COMMAND = 0.001  # seconds a pipeline's deadline grows by per command


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
    timeout = client.connection_pool.connection_kwargs.get("socket_timeout")
    if timeout is None:  # no timeout set: none to bound
        return await pipe.execute(raise_on_error=False)  # type: ignore[no-any-return]
    with caller_deadline():
        async with asyncio.timeout(float(timeout) + PER_COMMAND * len(commands)):
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
