"""Detector state in Redis: one Lua script per observation (``lua/observe.lua``).

Every key of one entity shares the hash tag ``{det:<entity>}`` (KeyBuilder.subsystem_entity),
so the script is valid on Redis Cluster. Template fan-out is global state under its own tag
(``{dettpl:<skeleton>}``) and is a separate small call. Time is the caller's ``now`` (the
engine's clock): detection is statistical and runs off the hot path, so replica skew of a few
milliseconds does not matter, and simulations can drive it with a FakeClock.
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from typing import Any

from redis.asyncio import Redis

from gateway.detection.state import IAT_ALPHA, NOVELTY_ALPHA, SYNC_WINDOW
from gateway.detection.types import (
    CELL_BITS,
    COUNTERS,
    TOPICS,
    EntityState,
    Observation,
    Pin,
    ScoreState,
)
from gateway.limiter.keys import KeyBuilder
from gateway.model import Level

_MASK = (1 << CELL_BITS) - 1
_SYSTEM = "det"
_AUDIT_TTL = 30 * 86400.0


def _script() -> str:
    return resources.files("gateway.detection").joinpath("lua/observe.lua").read_text()


def _counts(current: bytes | None, previous: bytes | None) -> tuple[int, ...]:
    """Sum two u16 big-endian BITFIELD histograms (missing or short strings count as 0)."""
    out = [0] * TOPICS
    for raw in (current, previous):
        data = raw or b""
        for i in range(min(TOPICS, len(data) // 2)):
            out[i] += int.from_bytes(data[2 * i : 2 * i + 2], "big")
    return tuple(out)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStateStore:
    """Detector state in Redis (``redis.asyncio``); keys built only by :class:`KeyBuilder`."""

    def __init__(self, redis: Redis, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys
        self._observe = redis.register_script(_script())

    def _key(self, entity: str, *parts: str) -> str:
        return self._keys.subsystem_entity(_SYSTEM, entity, *parts)

    async def observe(
        self, entity: str, obs: Observation, now: float, *, window: float, half_life: float
    ) -> EntityState:
        epoch = int(now // window)
        keys = [self._key(entity, "s")]
        for kind in ("cell", "skel", "exact"):
            keys += [self._key(entity, kind, str(epoch)), self._key(entity, kind, str(epoch - 1))]
        keys.append(self._key(entity, "pin"))
        keys += [
            self._key(entity, "topics", str(epoch)),
            self._key(entity, "topics", str(epoch - 1)),
        ]
        incs = obs.increments(False, False, False)
        args: list[Any] = [
            repr(now),
            repr(window),
            repr(half_life),
            obs.cell & _MASK,
            obs.skeleton & _MASK,
            obs.exact & _MASK,
            obs.member,
            repr(SYNC_WINDOW),
            repr(IAT_ALPHA),
            repr(NOVELTY_ALPHA),
            obs.topic % TOPICS,
        ]
        args += [repr(incs[name]) for name in ("elic", "params", "single", "maxout")]
        args += [repr(incs[name]) for name in ("fan", "hug", "fresh")]
        flat, pin, current, previous = await self._observe(keys=keys, args=args)
        return self._parse(entity, flat, pin, now, _counts(current, previous))

    async def load(self, entity: str, now: float) -> EntityState:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key(entity, "s"))
            pipe.get(self._key(entity, "pin"))
            fields, pin = await pipe.execute()
        flat: list[Any] = []
        for k, v in fields.items():
            flat += [k, v]
        state = self._parse(entity, flat, pin, now, ())
        if state.requests == 0:
            return state
        # the histogram of the window epoch the entity was last seen in
        window_epoch = await self._redis.hget(self._key(entity, "s"), "ep")
        if window_epoch is None:
            return state
        epoch = int(_text(window_epoch))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key(entity, "topics", str(epoch)))
            pipe.get(self._key(entity, "topics", str(epoch - 1)))
            current, previous = await pipe.execute()
        return replace(state, histogram=_counts(current, previous))

    async def save_score(self, entity: str, score: ScoreState, ttl: float) -> None:
        key = self._key(entity, "s")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "s_held": repr(score.held),
                    "s_stamp": repr(score.stamp),
                    "s_level": int(score.level),
                    "s_until": repr(score.until),
                },
            )
            pipe.expire(key, max(1, int(ttl)), nx=True)
            await pipe.execute()

    async def set_pin(self, entity: str, pin: Pin | None, now: float) -> None:
        key = self._key(entity, "pin")
        if pin is None or pin.until <= now:
            await self._redis.delete(key)
            return
        ttl_ms = max(1, int((pin.until - now) * 1000))
        await self._redis.set(key, json.dumps(pin.to_json()), px=ttl_ms)

    async def template_fanout(self, skeleton: int, account_id: str, window: float) -> int:
        key = self._keys.subsystem_entity("dettpl", f"{skeleton & (2**64 - 1):016x}")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.pfadd(key, account_id)
            pipe.pfcount(key)
            pipe.expire(key, max(1, int(window)))
            _, count, _ = await pipe.execute()
        return int(count)

    async def append_audit(
        self, entity: str, record: dict[str, Any], keep: int, ttl: float
    ) -> None:
        key = self._key(entity, "audit")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lpush(key, json.dumps(record, sort_keys=True))
            pipe.ltrim(key, 0, keep - 1)
            pipe.expire(key, max(1, int(max(ttl, _AUDIT_TTL))))
            await pipe.execute()

    async def audit(self, entity: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._redis.lrange(self._key(entity, "audit"), 0, limit - 1)
        return [json.loads(_text(r)) for r in rows]

    async def close(self) -> None:
        return None

    def _parse(
        self, entity: str, flat: list[Any], pin_raw: Any, now: float, histogram: tuple[int, ...]
    ) -> EntityState:
        f = {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}
        pin = Pin.from_json(json.loads(_text(pin_raw))) if pin_raw else None
        if pin is not None and pin.until <= now:
            pin = None
        hour = int(now // 3600)

        def num(name: str, default: float = 0.0) -> float:
            return float(f[name]) if name in f else default

        score = ScoreState(
            held=num("s_held"),
            stamp=num("s_stamp"),
            level=Level(int(num("s_level"))),
            until=num("s_until"),
        )
        return EntityState(
            entity=entity,
            requests=int(num("n")),
            first_seen=num("t0"),
            last_seen=num("tl"),
            counters={name: num("c:" + name) for name in COUNTERS},
            iat_mean=num("im"),
            iat_var=num("iv"),
            iat_samples=int(num("ik")),
            novelty_ewma=num("nv", 1.0),
            active_hours=sum(1 for i in range(24) if num(f"h{i}", -1.0) > hour - 24),
            histogram=histogram,
            score=score,
            pin=pin,
        )
