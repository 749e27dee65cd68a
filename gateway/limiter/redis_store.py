"""The Redis budget store: one ``EVALSHA`` of ``acquire.lua`` per request.

Works with ``redis.asyncio.Redis`` and ``redis.asyncio.cluster.RedisCluster``. On a plain
Redis, or when every key of a request shares one slot, the whole request is one script
call. On a cluster with global budgets in other slots, the slot group holding the level
keys goes first, then the other groups (concurrently, with that level); if any group
refuses, the groups that committed are undone with ``settle.lua`` so all-or-nothing holds
(a concurrent reader may briefly see the undone charge).

Time: the scripts read the server's ``TIME`` unless a clock was injected, in which case the
caller's ``clock.now()`` is sent (see :mod:`gateway.clock`). Any Redis error or timeout is
raised as :class:`~gateway.store_errors.StoreUnavailable` (the table in
:mod:`gateway.redis.errors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gateway.budgets.kind import Adjustment
from gateway.clock import Clock
from gateway.limiter.admission import is_throttled, to_level, validate
from gateway.limiter.codec import (
    EMPTY,
    SettleGroup,
    SpecCodec,
    decode_states,
    settle_args,
    settlement_rows,
)
from gateway.limiter.slots import SlotGroup, group_by_slot, undo_rows
from gateway.model import AcquireRequest, AcquireResult, BudgetState, Level, Settlement
from gateway.redis.client import RedisClient
from gateway.redis.errors import FAILURES, store_error
from gateway.redis.keys import slot_of
from gateway.redis.mux import Multiplexer
from gateway.redis.replies import text
from gateway.redis.scripts import ScriptRegistry
from gateway.store_errors import StoreUnavailable

T = TypeVar("T")
SETTLE_BATCH = 64  # settlements per settle.lua run: bounds one script's time in Redis
SCRIPTS = ("acquire", "settle", "refresh", "level", "flag")  # lua/<name>.lua, each after
PRELUDE = ("now", "cells")  # lua/now.lua: the time a script runs at; lua/cells.lua:
# the novelty keys' cell sets (sparse, then dense)


class RedisBudgetStore:
    """BudgetStore on Redis or Redis Cluster. ``clock=None``: the server's TIME decides."""

    def __init__(
        self,
        client: RedisClient,
        clock: Clock | None = None,
        *,
        max_in_flight: int | None = None,
        pipelining: bool = True,
        settle_linger: float = 0.0,
    ) -> None:
        """``max_in_flight`` bounds concurrent calls (callers queue) for clients whose pool
        fails instead of waiting when exhausted (redis-py's async cluster nodes).
        ``pipelining``: budget checks and settlements go through one shared, auto-pipelined
        connection (:mod:`gateway.redis.mux`; plain Redis only, a cluster splits by
        slot). ``settle_linger``: seconds a settlement may wait to ride with the next
        budget check instead of taking a round trip of its own (pipelining only)."""
        self.client = client
        self._clock = clock
        self._cluster = isinstance(client, RedisCluster)
        self._scripts = ScriptRegistry("gateway.limiter", SCRIPTS, prelude=PRELUDE)
        self._acquire_lua, self._settle_lua = self._scripts["acquire"], self._scripts["settle"]
        self._codec = SpecCodec()
        self._ready = not self._cluster
        self._init_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        self._mux = (
            Multiplexer.of(
                client,
                linger=settle_linger,
                scripts=(self._acquire_lua, self._settle_lua),
            )
            if pipelining and isinstance(client, Redis)
            else None
        )

    @property
    def mux(self) -> Multiplexer | None:
        """The shared auto-pipelined connection (plain Redis), for calls that ride along."""
        return self._mux

    def _now(self) -> bytes | float:
        return EMPTY if self._clock is None else self._clock.now()

    async def _guard(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation()`` (bounded, after cluster discovery); errors -> StoreUnavailable."""
        try:
            if not self._ready:
                await self._initialize()
            if self._slots is None:
                return await operation()
            async with self._slots:
                return await operation()
        except FAILURES as exc:
            raise store_error(exc) from exc

    async def _initialize(self) -> None:
        """Discover a cluster's topology once, before concurrent first calls race to."""
        async with self._init_lock:
            if not self._ready:
                assert isinstance(self.client, RedisCluster)
                await self.client.initialize()
                self._ready = True

    async def acquire(self, request: AcquireRequest) -> AcquireResult:
        if self._mux is not None:  # plain Redis: the hot path, without the guard's layers
            validate(request)
            try:
                return await self._whole(request, commit=True)
            except FAILURES as exc:
                raise store_error(exc) from exc
        return await self._guard(lambda: self._acquire(request, commit=True))

    async def peek(self, request: AcquireRequest) -> AcquireResult:
        return await self._guard(lambda: self._acquire(request, commit=False))

    async def _acquire(self, request: AcquireRequest, *, commit: bool) -> AcquireResult:
        validate(request)
        if not self._cluster:
            return await self._whole(request, commit)
        groups = group_by_slot(request)
        if len(groups) <= 1:
            return await self._whole(request, commit)
        return await self._split(request, groups, commit)

    async def _whole(self, request: AcquireRequest, commit: bool) -> AcquireResult:
        numkeys, args = self._codec.acquire_args(
            request.charges, request.level_keys, request.clearance_keys,
            self._now(), request.request_id, request.throttle_factor, commit,
        )  # fmt: skip
        if self._mux is not None:
            reply = await self._mux.run(self._acquire_lua, numkeys, args)
        else:
            reply = await self._acquire_lua.run(self.client, numkeys, args)
        return AcquireResult(
            allowed=reply[2] == 1,
            states=tuple(decode_states(request.charges, reply)),
            level=to_level(reply[0]),
            cleared=reply[1] == 1,
        )

    async def _call_group(
        self,
        request: AcquireRequest,
        group: SlotGroup,
        commit: bool,
        forced: tuple[int, bool] | None,
    ) -> tuple[list[int], bool, list[BudgetState]]:
        charges = [request.charges[i] for i in group.charges]
        numkeys, args = self._codec.acquire_args(
            charges, group.level_keys, group.clearance_keys,
            self._now(), request.request_id, request.throttle_factor, commit, forced,
        )  # fmt: skip
        reply = await self._acquire_lua.run(self.client, numkeys, args)
        return reply, reply[2] == 1, decode_states(charges, reply)

    async def _split(
        self, request: AcquireRequest, groups: list[SlotGroup], commit: bool
    ) -> AcquireResult:
        first, rest = groups[0], groups[1:]
        reply, admitted, first_states = await self._call_group(request, first, commit, None)
        level, cleared = int(reply[0]), reply[1] == 1
        commit_rest = commit and admitted
        outcomes = await asyncio.gather(
            *(self._call_group(request, g, commit_rest, (level, cleared)) for g in rest)
        )
        states: list[BudgetState | None] = [None] * len(request.charges)
        for index, state in zip(first.charges, first_states, strict=True):
            states[index] = state
        for group, (_, _, group_states) in zip(rest, outcomes, strict=True):
            for index, state in zip(group.charges, group_states, strict=True):
                states[index] = state
        everyone = admitted and all(ok for _, ok, _ in outcomes)
        if commit_rest and not everyone:
            throttled = is_throttled(level, request.throttle_factor)
            committed = [(first, first_states)] + [
                (g, s) for g, (_, ok, s) in zip(rest, outcomes, strict=True) if ok
            ]
            await self._undo(request, committed, throttled)
        return AcquireResult(
            allowed=everyone,
            states=tuple(s for s in states if s is not None),
            level=to_level(level),
            cleared=cleared,
        )

    async def _undo(
        self,
        request: AcquireRequest,
        committed: list[tuple[SlotGroup, list[BudgetState]]],
        throttled: bool,
    ) -> None:
        calls = []
        for group, states in committed:
            charges = [request.charges[i] for i in group.charges]
            rows, releases = undo_rows(charges, states, throttled, request.throttle_factor)
            if rows or releases:
                calls.append(self._settle_rows(request.request_id, rows, releases))
        await asyncio.gather(*calls)

    async def _settle_rows(
        self, request_id: str, rows: Sequence[Adjustment], releases: Sequence[str]
    ) -> None:
        numkeys, args = settle_args(self._now_bytes(), [(request_id, rows, releases)])
        if self._mux is not None:
            await self._mux.run(self._settle_lua, numkeys, args)
        else:
            await self._settle_lua.run(self.client, numkeys, args)

    def _now_bytes(self) -> bytes:
        return EMPTY if self._clock is None else repr(self._clock.now()).encode()

    async def settle(self, settlement: Settlement) -> None:
        rows = settlement_rows(settlement)
        releases = [spec.key for spec in settlement.releases]
        if not rows and not releases:
            return
        if not self._cluster:
            await self._guard(lambda: self._settle_rows(settlement.request_id, rows, releases))
            return
        by_slot: dict[int, tuple[list[Adjustment], list[str]]] = {}
        for row in rows:
            by_slot.setdefault(slot_of(row.key), ([], []))[0].append(row)
        for key in releases:
            by_slot.setdefault(slot_of(key), ([], []))[1].append(key)
        await self._guard(
            lambda: asyncio.gather(
                *(self._settle_rows(settlement.request_id, r, k) for r, k in by_slot.values())
            )
        )

    def settle_soon(self, settlements: Sequence[Settlement]) -> asyncio.Future[Any] | None:
        """Queue a batch of settlements on the shared connection now, so that every budget
        check this process sends later finds them applied; None when that cannot be done
        synchronously (cluster, not connected yet): use :meth:`settle_many`."""
        mux = self._mux
        if mux is None:
            return None
        calls = self._settle_calls(settlements)
        if not calls:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result([])
            return done
        return mux.defer_now(self._settle_lua, calls)

    def _settle_calls(self, settlements: Sequence[Settlement]) -> list[tuple[int, list[Any]]]:
        """settle.lua calls for a batch (one per ``SETTLE_BATCH`` settlements)."""
        groups: list[SettleGroup] = []
        for settlement in settlements:
            rows = settlement_rows(settlement)
            releases = [spec.key for spec in settlement.releases]
            if rows or releases:
                groups.append((settlement.request_id, rows, releases))
        now = self._now_bytes()
        return [
            settle_args(now, groups[i : i + SETTLE_BATCH])
            for i in range(0, len(groups), SETTLE_BATCH)
        ]

    async def settle_many(self, settlements: Sequence[Settlement]) -> None:
        """Settle a batch: on a plain Redis in one script run (per ``SETTLE_BATCH``), riding
        with the next write, at the latest after ``settle_linger``."""
        mux = self._mux
        if self._cluster or mux is None:
            await asyncio.gather(*(self.settle(s) for s in settlements))
            return
        calls = self._settle_calls(settlements)
        if calls:
            script = self._settle_lua

            async def settle_calls() -> None:
                for reply in await mux.run_deferred_many(script, calls):
                    if isinstance(reply, BaseException):
                        raise reply

            await self._guard(settle_calls)

    async def refresh_leases(self, request_ids_by_key: dict[str, list[str]], ttl: float) -> None:
        by_slot: dict[int, list[str]] = {}
        for key in request_ids_by_key:
            by_slot.setdefault(slot_of(key) if self._cluster else 0, []).append(key)
        batches: list[tuple[int, list[Any]]] = []
        for keys in by_slot.values():
            args: list[Any] = list(keys)
            args.append(self._now_bytes())
            args.append(ttl)
            for key in keys:
                args.append(len(request_ids_by_key[key]))
                args.extend(request_ids_by_key[key])
            batches.append((len(keys), args))
        refresh = self._scripts["refresh"]
        await self._guard(
            lambda: asyncio.gather(*(refresh.run(self.client, n, args) for n, args in batches))
        )

    async def set_level(self, key: str, level: Level, ttl: float) -> Level:
        args = [key, self._now_bytes(), int(level), ttl]
        before = await self._guard(lambda: self._scripts["level"].run(self.client, 1, args))
        return to_level(int(before))

    async def get_level(self, key: str) -> Level:
        raw = await self._guard(lambda: self.client.execute_command("GET", key))
        if raw is None:
            return Level.NONE
        value, _, expiry = text(raw).partition("@")
        if expiry and self._clock is not None and float(expiry) <= self._clock.now():
            return Level.NONE
        try:
            return to_level(int(value))
        except ValueError:
            return Level.NONE

    async def set_flag(self, key: str, ttl: float) -> bool:
        args = [key, self._now_bytes(), ttl]
        return bool(await self._guard(lambda: self._scripts["flag"].run(self.client, 1, args)))

    async def ping(self) -> bool:
        """PING over the connection budget checks use (the shared one on a plain Redis)."""
        mux = self._mux
        try:
            if mux is not None:
                return bool(await self._guard(lambda: mux.execute("PING")))
            return bool(await self._guard(lambda: self.client.execute_command("PING")))
        except StoreUnavailable:
            return False

    @property
    def round_trips(self) -> int | None:
        """Writes of the shared connection so far (None without one)."""
        return self._mux.round_trips if self._mux is not None else None

    async def close(self) -> None:
        if self._mux is not None:
            await self._mux.aclose()
        await self.client.aclose()
