"""Detector state in Redis: one Lua script per observation (``lua/observe.lua``).

Every key of one entity shares the hash tag ``{det:<entity>}`` (KeyBuilder.detection),
so the script is valid on Redis Cluster. Template fan-out is global state under its own tag
(``{dettpl:<skeleton>}``) and is a separate small script (``lua/fanout.lua``). Time is the
caller's ``now`` (the engine's clock): detection is statistical and runs off the hot path,
so replica skew of a few milliseconds does not matter, and simulations can drive it with a
FakeClock.

The cell, skeleton and exact-prompt "bitmaps" of an entity's window epoch are ONE small set
(``bits:<epoch>``, an intset: 2 bytes a member, the kind in the member's range) while it
holds at most 512 bits, then a key per kind (``cell``, ``skel``, ``exact``; the shared key
becomes the string ``split``, so no call looks for them), each a small set
of bit numbers until it holds more than 512, then a real 2**14-bit bitmap (2 KB): most
entities see a few prompts an hour, and a key (~120 bytes of overhead) or a 2 KB bitmap per
kind was most of their state. ``observe.lua`` switches; the answers are the same either way.
An epoch written before the shared set (its kinds' keys exist) is read and written in its
kinds' keys.

Topic histograms are sparse (topic and counter per topic counted, an odd length) while
that is shorter, then dense (u16 big-endian counters from topic 0 to the highest counted, an
even length, patched in place; the earlier layout's, read alike: :func:`_histogram`).
Applied sighting ids are scored by the applying worker's time rounded up to the second (an
integer in the zset's listpack, ~12 bytes less an id).

The state hash's numbers that ``observe.lua`` writes (request count, times, inter-arrival
statistics, novelty, the counters) are a zero byte and the 8-byte little-endian double, not
``'%.17g'`` text: the same doubles, read and written without parsing or formatting (most of
a call's Lua time), 9 bytes instead of up to 24. The hour fields and the epoch stay text, and
so do the score fields this module writes; a field written as text before is read as text
(its first byte is never zero) and replaced by the binary form when its value changes.

The ``*_many`` methods send a whole batch in one pipeline, in order (the worker's path): a
batch costs one round trip per kind of call, whatever its size.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from gateway.detection.chains_redis import RedisChains
from gateway.detection.coactivity_redis import RedisCoActivity
from gateway.detection.newcomers_redis import RedisNewcomers
from gateway.detection.stacks_redis import RedisStacks
from gateway.detection.state import (
    APPLIED_CAP,
    APPLIED_HORIZON,
    IAT_ALPHA,
    NOVELTY_ALPHA,
    SYNC_WINDOW,
    EntityBatch,
    FanoutRequest,
    ScoreWrite,
    Seen,
)
from gateway.detection.types import (
    CELL_BITS,
    COUNTERS,
    TOPICS,
    EntityState,
    Observation,
    Pin,
    ScoreState,
)
from gateway.memo import BoundedMemo
from gateway.model import Level
from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import first_failure, translating
from gateway.redis.keys import KeyBuilder
from gateway.redis.replies import text as _text
from gateway.redis.scripts import ScriptRegistry

_MASK = (1 << CELL_BITS) - 1
_translated = translating("detection state")  # Redis errors -> StoreUnavailable
_AUDIT_TTL = 30 * 86400.0
_COMPACT = (",", ":")  # stored JSON without the spaces: the same records, fewer bytes
_KEY_CACHE = 65536
_HISTOGRAM = struct.Struct(f">{TOPICS}H")
_SPARSE = struct.Struct(">BH")  # a sparse histogram's record: topic, its counter
_DOUBLE = struct.Struct("<d")  # observe.lua's binary numbers, after their zero byte
# observe.lua's reply: these hash fields (as stored), then active hours, pin, histograms
REPLY_FIELDS = (
    "n",
    "t0",
    "tl",
    "im",
    "iv",
    "ik",
    "nv",
    "s_held",
    "s_stamp",
    "s_level",
    "s_until",
    *(f"c:{name}" for name in COUNTERS),
)
_COUNTERS_AT = REPLY_FIELDS.index("c:req")
# observe.lua's increments, in its ARGV order
_INCREMENTS = (
    *("elic", "params", "single", "maxout", "fan", "hug", "fresh", "sys", "selic"),
    *("trace", "worked", "vb0", "vb1", "vb2", "reason", "resample"),
    *("sb0", "sb1", "sb2", "sb3", "prod"),
)


def _histogram(raw: bytes | None) -> tuple[int, ...]:
    """A topic histogram as ``observe.lua`` stores it (its ``histogram_bytes``): dense, an
    even length, the u16 big-endian counters from topic 0 (missing or short strings count as
    0); sparse, an odd length, per topic counted its number and its u16 big-endian counter,
    then a zero byte when that made an even length."""
    data = raw or b""
    if len(data) % 2 == 1:
        counts = [0] * TOPICS
        for topic, count in _SPARSE.iter_unpack(data[: len(data) - len(data) % 3]):
            counts[topic] = count
        return tuple(counts)
    data = data[: _HISTOGRAM.size]
    return _HISTOGRAM.unpack(data.ljust(_HISTOGRAM.size, b"\0"))


def _counts(current: bytes | None, previous: bytes | None) -> tuple[int, ...]:
    """Sum two u16 big-endian histograms (missing or short strings count as 0)."""
    if not previous:
        return _histogram(current)
    return tuple(a + b for a, b in zip(_histogram(current), _histogram(previous), strict=True))


def _number(value: Any, default: float = 0.0) -> float:
    """A state hash field: observe.lua's numbers are a zero byte and the 8-byte double
    (little-endian); text ('%.17g' or Python's repr) otherwise."""
    if value is None:
        return default
    if value[:1] == b"\0":
        return float(_DOUBLE.unpack_from(value, 1)[0])
    return float(value)


def _raise_first(replies: list[Any]) -> list[Any]:
    failure = first_failure(replies, "detection state")
    if failure is not None:
        raise failure
    return replies


class RedisStateStore:
    """Detector state in Redis (``redis.asyncio``); keys built only by :class:`KeyBuilder`."""

    def __init__(self, redis: RedisClient, keys: KeyBuilder) -> None:
        self._redis = redis
        self._keys = keys
        scripts = ScriptRegistry("gateway.detection", ("observe", "fanout"))
        self._observe, self._fanout = scripts["observe"], scripts["fanout"]
        self._entity_keys: BoundedMemo[tuple[str, int], list[str]] = BoundedMemo(_KEY_CACHE)
        self.coactivity = RedisCoActivity(redis, keys)  # episodes and meetings (synchrony)
        self.stacks = RedisStacks(redis, keys)  # recent client stacks (stack churn)
        self.newcomers = RedisNewcomers(redis, keys)  # newcomer records and cohorts
        self.chains = RedisChains(redis, keys)  # asks kept in stored state (chains)

    def _key(self, entity: str, *parts: str) -> str:
        return self._keys.detection(entity, *parts)

    def _observe_keys(self, entity: str, epoch: int) -> list[str]:
        found = self._entity_keys.get((entity, epoch))
        if found is None:
            found = [self._key(entity, "s")]
            for kind in ("cell", "skel", "exact"):
                found += [
                    self._key(entity, kind, str(epoch)),
                    self._key(entity, kind, str(epoch - 1)),
                ]
            found.append(self._key(entity, "pin"))
            found += [
                self._key(entity, "topics", str(epoch)),
                self._key(entity, "topics", str(epoch - 1)),
                self._key(entity, "ids"),
                self._key(entity, "bits", str(epoch)),
                self._key(entity, "bits", str(epoch - 1)),
            ]
            self._entity_keys.put((entity, epoch), found)
        return found

    def _observe_call(self, batch: EntityBatch, at: float) -> tuple[Any, ...]:
        keys = self._observe_keys(batch.entity, batch.epoch)
        args: list[Any] = [
            repr(batch.window),
            repr(batch.half_life),
            repr(SYNC_WINDOW),
            repr(IAT_ALPHA),
            repr(NOVELTY_ALPHA),
            repr(APPLIED_HORIZON),
            APPLIED_CAP,
            repr(at),
        ]
        for seen in batch.seen:
            obs = seen.obs
            incs = obs.increments(False, False, False)
            args += [
                seen.sighting,
                repr(seen.now),
                obs.cell & _MASK,
                obs.skeleton & _MASK,
                obs.exact & _MASK,
                obs.member,
                -1 if obs.follow_up else obs.topic % TOPICS,
            ]
            args += [repr(incs[name]) for name in _INCREMENTS]
            args += [obs.thread & _MASK if obs.thread else -1, obs.thread_topic % TOPICS]
        return self._observe.call(len(keys), [*keys, *args])

    async def observe(
        self,
        entity: str,
        obs: Observation,
        now: float,
        *,
        window: float,
        half_life: float,
        sighting: str = "",
    ) -> EntityState:
        batch = EntityBatch(entity, (Seen(obs, now, sighting),), window, half_life)
        return (await self.observe_batches([batch], now))[0]

    @_translated
    async def observe_batches(self, batches: Sequence[EntityBatch], at: float) -> list[EntityState]:
        calls = [self._observe_call(b, at) for b in batches]
        replies = _raise_first(await run_batch(self._redis, calls, (self._observe,)))
        return [
            self._observed(b.entity, reply, b.seen[-1].now)
            for b, reply in zip(batches, replies, strict=True)
        ]

    def _observed(self, entity: str, reply: list[Any], now: float) -> EntityState:
        fields = dict(zip(REPLY_FIELDS, reply, strict=False))
        active, pin_raw, current, previous = reply[len(REPLY_FIELDS) :]
        pin = Pin.from_json(json.loads(_text(pin_raw))) if pin_raw else None
        if pin is not None and pin.until <= now:
            pin = None
        counters = reply[_COUNTERS_AT : _COUNTERS_AT + len(COUNTERS)]
        return EntityState(
            entity=entity,
            requests=int(_number(fields["n"])),
            first_seen=_number(fields["t0"]),
            last_seen=_number(fields["tl"]),
            counters={name: _number(v) for name, v in zip(COUNTERS, counters, strict=True)},
            iat_mean=_number(fields["im"]),
            iat_var=_number(fields["iv"]),
            iat_samples=int(_number(fields["ik"])),
            novelty_ewma=_number(fields["nv"], 1.0),
            active_hours=int(active),
            histogram=_counts(current, previous),
            score=ScoreState(
                held=_number(fields["s_held"]),
                stamp=_number(fields["s_stamp"]),
                level=Level(int(_number(fields["s_level"]))),
                until=_number(fields["s_until"]),
            ),
            pin=pin,
        )

    @_translated
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
        await self.save_scores([ScoreWrite(entity, score, ttl)])

    @_translated
    async def save_scores(self, writes: Sequence[ScoreWrite]) -> None:
        commands: list[tuple[Any, ...]] = []
        for w in writes:
            key = self._key(w.entity, "s")
            score = w.score
            commands.append(
                (
                    "HSET",
                    key,
                    "s_held",
                    repr(score.held),
                    "s_stamp",
                    repr(score.stamp),
                    "s_level",
                    int(score.level),
                    "s_until",
                    repr(score.until),
                )
            )
            commands.append(("EXPIRE", key, max(1, int(w.ttl)), "NX"))
        _raise_first(await run_batch(self._redis, commands))

    @_translated
    async def set_pin(self, entity: str, pin: Pin | None, now: float) -> None:
        key = self._key(entity, "pin")
        if pin is None or pin.until <= now:
            await self._redis.delete(key)
            return
        ttl_ms = max(1, int((pin.until - now) * 1000))
        await self._redis.set(key, json.dumps(pin.to_json(), separators=_COMPACT), px=ttl_ms)

    async def template_fanout(self, skeleton: int, account_id: str, window: float) -> int:
        return (await self.fanout_many([FanoutRequest(skeleton, account_id, window)]))[0]

    @_translated
    async def fanout_many(self, requests: Sequence[FanoutRequest]) -> list[int]:
        """One script call per template (its accounts in order); the counts in order."""
        groups: dict[tuple[int, int], list[int]] = {}  # (template, ttl) -> request indexes
        for i, r in enumerate(requests):
            groups.setdefault((r.template & (2**64 - 1), max(1, int(r.window))), []).append(i)
        calls = [
            self._fanout.call(
                1,
                [
                    self._keys.detection_template(f"{template:016x}"),
                    ttl,
                    *(requests[i].account_id for i in indexes),
                ],
            )
            for (template, ttl), indexes in groups.items()
        ]
        replies = _raise_first(await run_batch(self._redis, calls, (self._fanout,)))
        counts = [0] * len(requests)
        for indexes, reply in zip(groups.values(), replies, strict=True):
            for i, count in zip(indexes, reply, strict=True):
                counts[i] = int(count)
        return counts

    @_translated
    async def append_audit(
        self, entity: str, record: dict[str, Any], keep: int, ttl: float
    ) -> None:
        key = self._key(entity, "audit")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lpush(key, json.dumps(record, sort_keys=True, separators=_COMPACT))
            pipe.ltrim(key, 0, keep - 1)
            pipe.expire(key, max(1, int(max(ttl, _AUDIT_TTL))))
            await pipe.execute()

    @_translated
    async def audit(self, entity: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._redis.lrange(self._key(entity, "audit"), 0, limit - 1)
        return [json.loads(_text(r)) for r in rows]

    async def close(self) -> None:
        return None

    def _parse(
        self, entity: str, flat: list[Any], pin_raw: Any, now: float, histogram: tuple[int, ...]
    ) -> EntityState:
        f = {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}
        pin = Pin.from_json(json.loads(_text(pin_raw))) if pin_raw else None
        if pin is not None and pin.until <= now:
            pin = None
        hour = int(now // 3600)

        def num(name: str, default: float = 0.0) -> float:
            return _number(f.get(name), default)

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
