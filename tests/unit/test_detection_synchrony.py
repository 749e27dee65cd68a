"""Chance-corrected co-activity (gateway/detection/synchrony.py) and its floor in the worker.

A squad of unlinked light accounts fires in waves; steady app accounts and human-paced
accounts share the same hours. The tracker must find the squad members' partners and none
for the others (their meetings are what their own rates predict); through the engine, on the
memory stores and on a real Redis, squad members whose streams agree get the synchrony level
and app accounts sending the same kind of single-turn asks at a steady rate get nothing.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import replace

import pytest
from redis.asyncio import Redis
from test_detection_traffic import fingerprint

from gateway.clock import FakeClock
from gateway.detection import coactivity_redis
from gateway.detection.batch import Sighting
from gateway.detection.coactivity import (
    MAX_PARTNERS,
    CoActivityStore,
    History,
    HistoryRequest,
    MemoryCoActivity,
)
from gateway.detection.coactivity_redis import RedisCoActivity, unpack_mates
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import DetectorStateStore
from gateway.detection.synchrony import (
    SynchronyAsk,
    SynchronyPolicy,
    episode,
    poisson_tail,
    synchronous_many,
)
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.store import BudgetStore
from gateway.model import Identity, Level, RequestFeatures
from gateway.redis.keys import KeyBuilder
from gateway.redis.scripts import ScriptRegistry

START = 1_800_000_000.0
SQUAD = [f"sq{i}" for i in range(5)]
STEADY = [f"app{i}" for i in range(4)]
HUMANS = [f"hu{i}" for i in range(4)]
TRACKER = SynchronyPolicy(
    delta=300.0, local=3600.0, horizon=86400.0, min_meetings=6, alpha=1e-4, partners=3
)


def timeline(waves: int, seed: int = 3) -> list[tuple[float, str]]:
    """(time, account): the squad once per wave (waves 20-60 min apart, each member within
    5 minutes of the wave), steady accounts every ~minute, humans at random (Poisson)."""
    rng = random.Random(seed)
    out: list[tuple[float, str]] = []
    t = 0.0
    for _ in range(waves):
        t += rng.uniform(1200, 3600)
        out += [(t + rng.uniform(0, 240), name) for name in SQUAD]
    end = t + 600
    for name in STEADY:
        at = rng.uniform(0, 60)
        while at < end:
            out.append((at, name))
            at += 60 * rng.uniform(0.7, 1.3)
    for name in HUMANS:
        at = rng.expovariate(1 / 1500)
        while at < end:
            out.append((at, name))
            at += rng.expovariate(1 / 1500)
    return sorted(out)


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 0.0) == 0.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - 2.718281828459045**-2.0)
    assert poisson_tail(15, 4.0) < 1e-4 < poisson_tail(8, 4.0)


async def partners(
    store: CoActivityStore,
    events: list[tuple[float, str]],
    names: list[str],
    now: float,
    policy: SynchronyPolicy = TRACKER,
) -> list[int]:
    """Record ``events`` (offsets from START) in time order, then ask about ``names``."""
    await store.record_many([episode(name, START + t, policy) for t, name in sorted(events)])
    return await synchronous_many(store, [SynchronyAsk(n, now, policy) for n in names])


async def test_squad_meets_its_members_above_chance_and_nobody_else_does() -> None:
    events = timeline(30)
    now = START + max(t for t, _ in events)
    found = await partners(MemoryCoActivity(), events, SQUAD + STEADY + HUMANS, now)
    assert all(n >= 3 for n in found[: len(SQUAD)]), found
    # steady apps meet everyone on every request: exactly what their rate predicts
    assert found[len(SQUAD) :] == [0] * (len(STEADY) + len(HUMANS))


@pytest.mark.redis
async def test_redis_coactivity_answers_as_memory(redis_client: Redis, key_prefix: str) -> None:
    """The shared store (every detection worker's view) finds what one process finds: the
    same squad partners, nobody else; recorded in several batches, as workers would."""
    events = timeline(30)
    now = START + max(t for t, _ in events)
    names = SQUAD + STEADY + HUMANS
    redis = RedisCoActivity(redis_client, KeyBuilder(key_prefix))
    ordered = sorted(events)
    for at in range(0, len(ordered), 50):
        await redis.record_many([episode(n, START + t, TRACKER) for t, n in ordered[at : at + 50]])
    asks = [SynchronyAsk(n, now, TRACKER) for n in names]
    found = await synchronous_many(redis, asks)
    assert found == await partners(MemoryCoActivity(), events, names, now)
    assert all(n >= 3 for n in found[: len(SQUAD)]), found


def crowd(seed: int = 13) -> list[tuple[float, str]]:
    """A hub starting an episode every ~10 minutes for two days among 160 accounts that come by
    a few times (far more partners than an account keeps) and a mate who keeps meeting it."""
    rng = random.Random(seed)
    out = [(at * 600.0 + rng.uniform(0, 60), "hub") for at in range(288)]
    out += [(at * 1800.0 + rng.uniform(0, 200), "mate") for at in range(96)]
    for i in range(160):
        out += [(rng.uniform(0, 2 * 86400.0), f"guest{i:03d}") for _ in range(rng.randrange(1, 6))]
    return sorted(out)


@pytest.mark.redis
@pytest.mark.parametrize("size", [64, 10_000])
async def test_partners_are_bounded_and_redis_keeps_the_same_ones_as_memory(
    redis_client: Redis, key_prefix: str, size: int
) -> None:
    """An account keeps at most MAX_PARTNERS partners' meetings (the weakest go first), on
    memory and on Redis alike: the same partners, the same counts, in any interval; in
    batches of 64 and in one batch (every meeting of an account in one meet.lua call, the
    hub's bound crossed within it)."""
    events, names = crowd(), ["hub", "mate", "guest000", "guest001", "guest077"]
    memory, redis = MemoryCoActivity(), RedisCoActivity(redis_client, KeyBuilder(key_prefix))
    await memory.record_many([episode(n, START + t, TRACKER) for t, n in events])
    for at in range(0, len(events), size):
        batch = events[at : at + size]
        await redis.record_many([episode(n, START + t, TRACKER) for t, n in batch])
    end = START + events[-1][0]
    for since in (end - 3600.0 * 5, end - TRACKER.horizon):
        asks = [HistoryRequest(n, since, end) for n in names]
        found = await redis.histories(asks)
        assert found == await memory.histories(asks)
    hub = found[0].meetings
    assert 0 < len(hub) <= MAX_PARTNERS and hub["mate"] >= 6
    met = KeyBuilder(key_prefix).detection("a:hub", "co", "mates")
    assert len(unpack_mates(await redis_client.get(met))) == MAX_PARTNERS  # stale went first
    assert 0 < await redis_client.ttl(met) <= TRACKER.horizon
    # one string, as large as its records (a hash with a partner met 9+ times, or 129
    # fields for a moment, became a 12-16 KB hashtable): compact, a 1-byte length and count
    # (names and counts below 128), each time its double's bytes past the prefix they share
    packed = await redis_client.get(met)
    records, shared = unpack_mates(packed), packed[0] - 0xF0
    doubles = [struct.pack(">d", t) for _, times in records for t in times]
    common = next(n for n in range(7, -1, -1) if len({d[:n] for d in doubles}) == 1)
    assert shared == common >= 2  # two days of times around 2027 share 41 da at least
    size = 1 + shared + sum(2 + len(name) + (8 - shared) * len(t) for name, t in records)
    assert await redis_client.strlen(met) == size
    assert max(len(times) for _, times in records) > 8
    assert await redis_client.memory_usage(met, samples=0) <= 1.3 * size + 100


@pytest.mark.redis
async def test_meetings_in_the_earlier_layout_are_read_and_rewritten_compact(
    redis_client: Redis, key_prefix: str
) -> None:
    """``co:mates`` and ``co:starts`` written before the compact layout (a string of 2-byte
    lengths and counts and 8-byte doubles; a sorted set) are read as they were, and the next
    meeting and start rewrite them compact, with the same records and the new ones."""
    redis = RedisCoActivity(redis_client, KeyBuilder(key_prefix))
    met = KeyBuilder(key_prefix).detection("a:a", "co", "mates")
    starts = KeyBuilder(key_prefix).detection("a:a", "co", "starts")
    await redis_client.zadd(starts, {repr(t): t for t in (START + 10.5, START + 400.1)})
    old = [("mate", (START + 10.5, START + 700.25)), ("guest", (START + 20.125,))]
    earlier = b"".join(
        struct.pack(">H", len(n)) + n.encode() + struct.pack(f">H{len(t)}d", len(t), *t)
        for n, t in old
    )
    await redis_client.set(met, earlier)
    assert unpack_mates(earlier) == old
    ask = HistoryRequest("a", START, START + 1000.0)
    assert await redis.histories([ask]) == [
        History((START + 10.5, START + 400.1), {"mate": 2, "guest": 1})
    ]
    now = START + 900.0
    await redis.record_many([episode("b", now - 1.0, TRACKER), episode("a", now, TRACKER)])
    packed = await redis_client.get(met)
    assert packed[0] >= 0xF0
    assert unpack_mates(packed) == [*old, ("b", (now,))]
    assert await redis.histories([ask]) == [
        History((START + 10.5, START + 400.1, now), {"mate": 2, "guest": 1, "b": 1})
    ]
    assert await redis_client.type(starts) == b"string"
    # the last request time (its mark and double) first, then 3 times sharing 3 bytes
    assert await redis_client.strlen(starts) == 9 + 1 + 3 + 3 * 5
    assert 0 < await redis_client.ttl(starts) <= TRACKER.horizon
    last = KeyBuilder(key_prefix).detection("a:a", "co", "last")
    assert not await redis_client.exists(last)


@pytest.mark.redis
async def test_episode_starts_are_kept_in_order_once_each_and_within_the_horizon(
    redis_client: Redis, key_prefix: str
) -> None:
    """Two workers' starts arriving out of order are kept in time order; a start recorded
    again is one; starts older than the horizon go: as the memory store keeps them."""
    redis = RedisCoActivity(redis_client, KeyBuilder(key_prefix))
    starts = KeyBuilder(key_prefix).detection("a:a", "co", "starts")
    script = ScriptRegistry("gateway.detection", ("starts",), prelude=("times",))["starts"]
    horizon = TRACKER.horizon
    for t in (START + 2000.0, START + 1000.0, START + 2000.0, START + horizon + 1500.0):
        last = KeyBuilder(key_prefix).detection("a:a", "co", "last")
        args = [starts, last, repr(t), repr(t - horizon), int(horizon)]
        await script.run(redis_client, 2, args)  # two workers' writes, as they land
    ask = HistoryRequest("a", START, START + 2 * horizon, meetings=False)
    found = await redis.histories([ask])
    assert found == [History((START + 2000.0, START + horizon + 1500.0), {})]


@pytest.mark.redis
async def test_an_accounts_requests_of_a_batch_take_one_episode_call_with_each_ones_answer(
    redis_client: Redis, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per account one ``episode.lua`` call per batch (its requests in order), and the same
    starts as one call per request: a retry no later than the last starts nothing."""
    sent: list[tuple[object, ...]] = []
    real = coactivity_redis.run_batch

    async def counting(client: object, calls: Sequence[tuple[object, ...]], *a: object) -> object:
        sent.extend(calls)
        return await real(client, calls, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(coactivity_redis, "run_batch", counting)
    redis = RedisCoActivity(redis_client, KeyBuilder(key_prefix))
    gap = TRACKER.delta + 1.0
    times = [
        ("a", 0.0),
        ("b", 5.0),
        ("a", 10.0),
        ("a", 10.0 + gap),
        ("b", 1.0),
        ("a", 10 + 2 * gap),
    ]
    await redis.record_many([episode(n, START + t, TRACKER) for n, t in times])
    sha = ScriptRegistry("gateway.detection", ("episode",), prelude=("times",))["episode"].sha
    assert sum(1 for call in sent if sha in call) == 2  # was one per request: 6
    ask = [HistoryRequest(n, START, START + 3 * gap, meetings=False) for n in ("a", "b")]
    assert await redis.histories(ask) == [
        History((START, START + 10.0 + gap, START + 10.0 + 2 * gap), {}),
        History((START + 5.0,), {}),
    ]


async def test_accounts_awake_at_the_same_hours_are_not_synchronous() -> None:
    """Office-hours accounts (one ask every ~40 minutes, 9 to 17, five days): their meetings
    are what their local rates predict, although a flat daily rate would predict far fewer."""
    rng = random.Random(5)
    events = []
    for i in range(8):
        for day in range(5):
            at = day * 86400.0 + 9 * 3600 + rng.expovariate(1 / 2400)
            while at < day * 86400.0 + 17 * 3600:
                events.append((at, f"office{i}"))
                at += rng.expovariate(1 / 2400)
    names = [f"office{i}" for i in range(8)]
    found = await partners(MemoryCoActivity(), events, names, START + 5 * 86400.0)
    assert found == [0] * 8


async def test_a_fleet_of_app_customers_at_the_same_steady_rate_is_not_synchronous() -> None:
    """Customers of one app (a request every 3-8 minutes, 14 hours a day, three days): gaps
    around ``delta`` start an episode every ~9 minutes. Episode starts are ``delta`` apart by
    construction, so a window of ``delta`` holds at most one: chance is ``delta * rate``, not
    the Poisson ``1 - exp(-delta * rate)`` (which found every customer synchronous)."""
    rng = random.Random(11)
    events = []
    for i in range(8):
        open_h, gap = rng.uniform(6, 9), rng.uniform(13, 16) * 3600 / 150
        for day in range(3):
            at = day * 86400.0 + open_h * 3600 + rng.uniform(0, gap)
            for _ in range(150):
                events.append((at, f"customer{i}"))
                at += gap * rng.uniform(0.5, 1.5)
    policy = replace(TRACKER, horizon=3 * 86400.0)
    now = START + max(t for t, _ in events)
    names = [f"customer{i}" for i in range(8)]
    assert await partners(MemoryCoActivity(), events, names, now, policy) == [0] * 8


async def test_few_waves_are_not_enough() -> None:
    found = await partners(MemoryCoActivity(), timeline(3), SQUAD, START + 4 * 3600)
    assert found == [0] * len(SQUAD)


async def test_forgets_accounts_idle_beyond_the_horizon() -> None:
    store = MemoryCoActivity()
    await store.record_many([episode("a", START, TRACKER), episode("b", START + 10, TRACKER)])
    assert len(store) == 2
    await store.record_many([episode("c", START + TRACKER.horizon + 60, TRACKER)])
    assert len(store) == 1


def _sightings(waves: int, suite: int = 0) -> list[Sighting]:
    """Every account sends never-repeated single-turn asks with no shared frame; with
    ``suite``, the squad repeats a fixed suite of that many prompts instead (a CI job)."""
    rng = random.Random(9)
    out = []
    for t, name in timeline(waves):
        fp = fingerprint(rng, cell=rng.getrandbits(14))
        if suite and name in SQUAD:
            fp = replace(fp, exact=rng.randrange(suite), cell=0)
        features = RequestFeatures(endpoint="chat", model="m", max_tokens=1500, turns=1)
        out.append(Sighting(Identity(account_id=name, tier=None), name, 1, fp, features, START + t))
    return out


async def _levels(
    states: Sequence[DetectorStateStore],
    budgets: BudgetStore,
    keys: KeyBuilder,
    clock: FakeClock,
    synchrony: bool = True,
    suite: int = 0,
) -> dict[str, Level]:
    policy = DetectionPolicy.model_validate({"tuning": {"synchrony": synchrony}})
    engines = [DetectionEngine(s, budgets, keys, lambda: policy, clock) for s in states]
    sightings = _sightings(30, suite)
    for n, at in enumerate(range(0, len(sightings), 16)):
        batch = sightings[at : at + 16]
        clock.set(batch[-1].now)
        await engines[n % len(engines)].observe_many(batch)  # workers take turns
    names = SQUAD + STEADY + HUMANS
    return {n: Level(await budgets.get_level(keys.account_level(n, n))) for n in names}


async def _on_memory(synchrony: bool, suite: int = 0) -> dict[str, Level]:
    clock = FakeClock(START)
    state, budgets = MemoryStateStore(clock), MemoryBudgetStore(clock)
    return await _levels([state], budgets, KeyBuilder("t"), clock, synchrony, suite)


async def test_synchronous_accounts_repeating_a_suite_are_not_floored() -> None:
    """CI jobs on the hour are synchronous too: their own stream (a fixed suite) disagrees."""
    levels = await _on_memory(True, suite=3)
    assert all(levels[n] == Level.NONE for n in SQUAD), levels


async def test_engine_floors_synchronous_members_and_nobody_else_on_memory() -> None:
    """The synthetic asks are random enough that the per-account detectors throttle some
    busy accounts on their own: synchrony must change the squad's levels and nothing else."""
    off, on = await _on_memory(False), await _on_memory(True)
    assert all(off[n] == Level.NONE for n in SQUAD), off  # too light to score one by one
    assert all(on[n] >= Level.THROTTLE for n in SQUAD), on
    assert {n: on[n] for n in STEADY + HUMANS} == {n: off[n] for n in STEADY + HUMANS}


@pytest.mark.redis
async def test_engine_floors_synchronous_members_on_redis(
    redis_client: Redis, key_prefix: str
) -> None:
    clock = FakeClock(START)
    keys = KeyBuilder(key_prefix)
    state = RedisStateStore(redis_client, keys)
    on_redis = await _levels([state], RedisBudgetStore(redis_client, clock), keys, clock)
    assert on_redis == await _on_memory(True)
    assert all(on_redis[n] >= Level.THROTTLE for n in SQUAD), on_redis


@pytest.mark.redis
async def test_two_workers_sharing_redis_see_the_squad_as_one(
    redis_client: Redis, key_prefix: str
) -> None:
    """Two detection workers (two engines, two store objects) take turns with the batches, as
    workers reading one sharded stream do: each sees half the requests, the co-activity store
    sees all, and the levels are those of one worker seeing everything."""
    clock = FakeClock(START)
    keys = KeyBuilder(key_prefix)
    workers = [RedisStateStore(redis_client, keys), RedisStateStore(redis_client, keys)]
    shared = await _levels(workers, RedisBudgetStore(redis_client, clock), keys, clock)
    assert shared == await _on_memory(True)
    assert all(shared[n] >= Level.THROTTLE for n in SQUAD), shared


@pytest.mark.redis
async def test_a_last_request_time_of_its_own_key_is_read_and_moved(
    redis_client: Redis, key_prefix: str
) -> None:
    """The layout before the last request time moved into ``co:starts``: compact starts and
    ``co:last`` apart. A request within ``delta`` of that last time starts nothing (it was
    read), the next writes move it in and drop ``co:last``; the starts stay as they were."""
    keys = KeyBuilder(key_prefix)
    starts, last = (keys.detection("a:a", "co", part) for part in ("starts", "last"))
    redis = RedisCoActivity(redis_client, keys)
    await redis.record_many([episode("a", START, TRACKER)])
    packed = await redis_client.get(starts)
    assert packed[:1] == b"\xee" and struct.unpack(">d", packed[1:9]) == (START,)
    await redis_client.set(starts, packed[9:], ex=3600)  # as the earlier layout left them
    await redis_client.set(last, repr(START + 30.0), ex=3600)
    later = START + 30.0 + TRACKER.delta / 2
    await redis.record_many([episode("a", later, TRACKER)])  # the same episode
    assert not await redis_client.exists(last)
    moved = await redis_client.get(starts)
    assert struct.unpack(">d", moved[1:9]) == (later,) and moved[9:] == packed[9:]
    ask = HistoryRequest("a", START, START + 3 * TRACKER.delta, meetings=False)
    assert await redis.histories([ask]) == [History((START,), {})]
    await redis_client.set(starts, packed[9:], ex=3600)  # the same, a new episode this time
    await redis_client.set(last, repr(START + 30.0), ex=3600)
    await redis.record_many([episode("a", START + 31.0 + TRACKER.delta, TRACKER)])
    assert not await redis_client.exists(last)
    assert await redis.histories([ask]) == [History((START, START + 31.0 + TRACKER.delta), {})]
