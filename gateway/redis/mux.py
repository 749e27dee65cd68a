"""One multiplexed Redis connection for the budget hot path (auto-pipelining).

redis-py's asyncio client checks a connection out of its pool for every command (or
pipeline) and keeps it until the reply is back: 20-40 µs of Python per call, more than the
rest of a budget check. Here every caller of a process shares one connection. Commands
issued in the same event-loop tick leave in one write; Redis answers in order, so a hiredis
reader fed by an :class:`asyncio.Protocol` hands each reply to the oldest waiting caller.
``python -m loadtest.bench_store`` (32 tasks): a five-budget acquire, encoding and decoding
included, costs ~15 µs of client CPU here, a bare ``PING`` through redis-py ~46 µs.

Deferred calls (:meth:`Multiplexer.defer_now`, used for settlements) do not start a write
of their own: they leave with the next write, ahead of its calls, or when ``linger`` runs
out. Under load a request then costs one round trip (its budget check carries earlier
requests' settlements) instead of two; a settlement is never later than ``linger``, and
never later than the next budget check this process sends, so a client's sequential
requests always see their own releases.

A caller that gives up (timeout, cancellation) only abandons its future: its reply is still
read, in turn, and dropped, so the stream never goes out of step. A lost connection fails
every waiting caller with :class:`ConnectionError` (an ``OSError``: the store reports it as
unavailable) and the next call reconnects. A server that stops answering (frozen: its
socket still accepts writes) is cut off once a reply has been owed for ``timeout`` seconds
with no reply at all meanwhile (a watchdog timer, one per connection, armed only while
replies are owed), or once ``max_waiting`` replies are owed. Connecting, the handshake and
every reply are thus bounded by ``Endpoint.timeout`` even without a caller's deadline. The
connection belongs to the event loop that opened it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import NoScriptError, ResponseError

from gateway.redis.errors import store_error
from gateway.redis.scripts import Script
from gateway.store_errors import ScriptMissing

_Entry = tuple[bytes, "asyncio.Future[Any]"]
_LATE = 0.005  # a watchdog later than this ran behind a busy loop (see gateway.limiter.deadline)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect, read off a redis-py client (its URL, TLS, credentials)."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a unix socket instead of host:port
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: Any = None  # ssl.SSLContext
    timeout: float = 5.0  # connect, handshake, and the longest silence while owed replies

    @classmethod
    def of(cls, client: Redis) -> Endpoint:
        pool = client.connection_pool
        conn = pool.connection_class(**pool.connection_kwargs)  # parses, does not connect
        timeout = conn.socket_connect_timeout or conn.socket_timeout or 5.0
        common: dict[str, Any] = {
            "db": int(conn.db or 0),
            "username": conn.username,
            "password": conn.password,
            "timeout": float(timeout),
        }
        if isinstance(conn, UnixDomainSocketConnection):
            return cls(path=conn.path, **common)
        if not isinstance(conn, Connection):
            raise ValueError(f"unsupported Redis connection class {type(conn).__name__}")
        ssl = conn.ssl_context.get() if isinstance(conn, SSLConnection) else None
        return cls(host=conn.host, port=int(conn.port), ssl=ssl, **common)


class _Protocol(asyncio.Protocol):
    def __init__(self, linger: float, max_waiting: int, timeout: float) -> None:
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._linger = linger
        self._max_waiting = max_waiting
        self._timeout = timeout
        self._progress = 0.0  # loop time of the latest reply (or of the write that began a wait)
        self._watchdog: asyncio.TimerHandle | None = None
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._pending: list[_Entry] = []
        self._deferred: list[_Entry] = []
        self._scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.WriteTransport | None = None
        self.closed = False
        self.writes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        if waiting:
            self._progress = asyncio.get_running_loop().time()
        while (reply := reader.gets()) is not False:
            future = waiting.popleft()
            if future.done():
                continue  # its caller gave up
            if isinstance(reply, ResponseError):
                text = str(reply)
                lost = text.startswith("NOSCRIPT")
                future.set_exception(store_error(NoScriptError(text)) if lost else reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._watchdog is not None:
            self._watchdog.cancel()
        error = ConnectionError(f"Redis connection lost: {exc or 'closed'}")
        owed = list(self._waiting) + [f for _, f in self._deferred + self._pending]
        self._waiting.clear()
        self._pending, self._deferred = [], []
        for future in owed:
            if not future.done():
                future.set_exception(error)

    def call(self, command: bytes, *, deferred: bool = False) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self.closed:
            future.set_exception(ConnectionError("Redis connection closed"))
            return future
        if deferred and self._linger > 0:
            self._deferred.append((command, future))
            if self._timer is None:
                self._timer = loop.call_later(self._linger, self._flush)
        else:
            self._pending.append((command, future))
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._scheduled = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # settlements first: they belong to requests that finished before these started
        batch = self._deferred + self._pending if self._deferred else self._pending
        self._pending, self._deferred = [], []
        if not batch:
            return
        if self.transport is None or self.closed:
            error = ConnectionError("Redis connection closed")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        if not self._waiting:
            self._progress = asyncio.get_running_loop().time()
        self._waiting.extend(future for _, future in batch)
        self.transport.write(b"".join(command for command, _ in batch))
        self.writes += 1
        if len(self._waiting) > self._max_waiting:  # the server stopped answering
            self.transport.abort()
        elif self._watchdog is None:
            self._watch()

    def _watch(self, when: float | None = None) -> None:
        """Arm the watchdog for ``timeout`` after the latest progress (or for ``when``)."""
        when = self._progress + self._timeout if when is None else when
        self._watchdog = asyncio.get_running_loop().call_at(when, self._check, when)

    def _check(self, when: float) -> None:
        """Replies owed and none for ``timeout``: the server hangs, cut it off. A check
        that runs late looks again once the loop has polled the socket (a busy loop's
        unread replies are not the server's silence)."""
        self._watchdog = None
        if not self._waiting or self.closed or self.transport is None:
            return
        now = asyncio.get_running_loop().time()
        if now - self._progress < self._timeout:
            self._watch()
        elif now - when > _LATE and when < self._progress + 2 * self._timeout:
            self._watch(now + min(now - when, self._timeout))
        else:
            self.transport.abort()  # connection_lost fails every waiting caller


class Multiplexer:
    """Script calls over one shared, auto-pipelined connection (see the module docstring)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        linger: float = 0.0,
        max_waiting: int = 20_000,
        scripts: Sequence[Script] = (),
    ) -> None:
        """``scripts`` are loaded (``SCRIPT LOAD``) as part of every connection's handshake:
        a restarted server has lost them, and a deferred call that meets ``NOSCRIPT`` has to
        be sent again."""
        self.endpoint = endpoint
        self._scripts = tuple(scripts)
        self._linger = linger
        self._max_waiting = max_waiting
        self._protocol: _Protocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Task[_Protocol] | None = None
        self._writes_before = 0

    @classmethod
    def of(
        cls, client: Redis, *, linger: float = 0.0, scripts: Sequence[Script] = ()
    ) -> Multiplexer:
        return cls(Endpoint.of(client), linger=linger, scripts=scripts)

    @property
    def round_trips(self) -> int:
        """Writes sent so far (each carries one or more commands)."""
        current = self._protocol.writes if self._protocol is not None else 0
        return self._writes_before + current

    async def run(self, script: Script, numkeys: int, args: list[Any]) -> Any:
        """``EVALSHA`` (``EVAL`` when the server lost the script)."""
        protocol = self._live() or await self._connection()
        try:
            return await protocol.call(_pack("EVALSHA", script.sha, numkeys, *args))
        except ScriptMissing:
            return await protocol.call(_pack("EVAL", script.text, numkeys, *args))

    async def run_deferred_many(
        self, script: Script, calls: Sequence[tuple[int, list[Any]]]
    ) -> list[Any]:
        """Deferred calls of one script (leaving with the next write, or after ``linger``):
        replies in order, errors as exceptions in place. No task per call."""
        protocol = self._live() or await self._connection()
        futures = _defer(protocol, script, calls)
        replies: list[Any] = await asyncio.gather(*futures, return_exceptions=True)
        for i, reply in enumerate(replies):
            if isinstance(reply, ScriptMissing):
                numkeys, args = calls[i]
                replies[i] = await self.run(script, numkeys, args)
        return replies

    def defer_now(
        self, script: Script, calls: Sequence[tuple[int, list[Any]]]
    ) -> asyncio.Future[list[Any]] | None:
        """Queue deferred calls of one script at once, in call order (ahead of every call
        made after this one); None when not connected in this event loop (use
        :meth:`run_deferred_many`). A server that lost the script fails them with
        :class:`~gateway.store_errors.ScriptMissing` (nothing ran)."""
        protocol = self._live()
        return None if protocol is None else asyncio.gather(*_defer(protocol, script, calls))

    def defer_command(self, *args: Any) -> asyncio.Future[Any] | None:
        """Queue one plain command as deferred (it leaves with the next write, or after
        ``linger``), never awaited by the caller; None when not connected in this event loop
        (the caller decides whether to connect: :meth:`execute`)."""
        protocol = self._live()
        return None if protocol is None else protocol.call(_pack(*args), deferred=True)

    async def execute(self, *args: Any) -> Any:
        protocol = await self._connection()
        return await protocol.call(_pack(*args))

    def _live(self) -> _Protocol | None:
        """The open connection of this event loop, if there is one."""
        protocol = self._protocol
        if protocol is None or protocol.closed or self._loop is not _running_loop():
            return None
        return protocol

    async def _connection(self) -> _Protocol:
        protocol = self._live()
        if protocol is not None:
            return protocol
        task = self._connecting
        if task is None or task.get_loop() is not _running_loop():
            task = asyncio.get_running_loop().create_task(self._connect())
            self._connecting = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done() and self._connecting is task:
                self._connecting = None

    async def _connect(self) -> _Protocol:
        self._drop()
        loop = asyncio.get_running_loop()
        ep = self.endpoint

        def factory() -> _Protocol:
            return _Protocol(self._linger, self._max_waiting, ep.timeout)

        if ep.path is not None:
            opening = loop.create_unix_connection(factory, ep.path)
        else:
            opening = loop.create_connection(factory, ep.host, ep.port, ssl=ep.ssl)
        async with asyncio.timeout(ep.timeout):  # connect and handshake, together
            _, protocol = await opening
            try:
                if ep.password is not None:
                    auth = (ep.username, ep.password) if ep.username else (ep.password,)
                    await protocol.call(_pack("AUTH", *auth))
                if ep.db:
                    await protocol.call(_pack("SELECT", ep.db))
                for script in self._scripts:
                    await protocol.call(_pack("SCRIPT", "LOAD", script.text))
            except BaseException:
                if protocol.transport is not None:
                    protocol.transport.abort()
                raise
        self._protocol, self._loop = protocol, loop
        return protocol

    def _drop(self) -> None:
        """Forget the current connection (closing it when its loop still runs)."""
        protocol, self._protocol = self._protocol, None
        if protocol is None:
            return
        self._writes_before += protocol.writes
        if protocol.transport is not None and not protocol.closed:
            with contextlib.suppress(RuntimeError):  # its event loop is closed
                protocol.transport.abort()

    async def aclose(self) -> None:
        self._drop()


def _defer(
    protocol: _Protocol, script: Script, calls: Sequence[tuple[int, list[Any]]]
) -> list[asyncio.Future[Any]]:
    """Queue ``EVALSHA`` calls of ``script`` as deferred, in order."""
    return [
        protocol.call(_pack("EVALSHA", script.sha, n, *args), deferred=True) for n, args in calls
    ]


def _pack(*args: Any) -> bytes:
    """The RESP bytes of one command (hiredis, in C)."""
    packed: bytes = hiredis.pack_command(args)
    return packed


def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()
