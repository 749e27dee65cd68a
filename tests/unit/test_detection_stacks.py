"""Client-stack churn (gateway/detection/stacks.py) and its floor in the worker.

An account rotating its client stack per request, sending never-seen single-turn asks, is
floored at ``stack_churn_level`` once ``stack_churn_min`` stacks are known when its asks
carry a harvest-value signal; an installation with one stack, a person with two devices, a
rotating account whose stream disagrees (follow-ups) and one company's services each with
its own SDK (rotating, no value signal) are not. Memory and Redis stores answer alike. The
inspect stage's hash sees the client software only (SDK or library and its version), not
the end user's platform or browser.
"""

from __future__ import annotations

import random

import pytest
from multidict import CIMultiDict
from redis.asyncio import Redis
from test_detection_traffic import fingerprint

from gateway.clock import FakeClock
from gateway.detection.batch import Sighting
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.stacks import MemoryStacks, StackRequest
from gateway.detection.stacks_redis import RedisStacks
from gateway.detection.state import DetectorStateStore
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.store import BudgetStore
from gateway.model import Identity, Level, RequestFeatures
from gateway.proxy.inspect import client_stack
from gateway.redis.keys import KeyBuilder

START = 1_800_000_000.0
NAMES = ("rot", "fixed", "two", "chat", "fleet")
SDK = {
    "User-Agent": "OpenAI/Python 1.54.4",
    "X-Stainless-Lang": "python",
    "X-Stainless-Package-Version": "1.54.4",
    "X-Stainless-OS": "Linux",
}


def test_the_stack_hash_reads_only_the_stack_headers() -> None:
    one = client_stack(CIMultiDict(SDK))
    assert one == client_stack(CIMultiDict({**SDK, "Content-Type": "application/json"}))
    assert one == client_stack(CIMultiDict({k.lower(): v for k, v in SDK.items()}))
    assert one != client_stack(CIMultiDict({**SDK, "X-Stainless-Package-Version": "1.57.0"}))
    assert one != client_stack(CIMultiDict({"User-Agent": "python-requests/2.32.3"}))
    # the platform and the browser are the end user's, not the installation's
    assert one == client_stack(CIMultiDict({**SDK, "X-Stainless-OS": "MacOS"}))
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0"
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
    assert client_stack(CIMultiDict({"User-Agent": chrome})) == client_stack(
        CIMultiDict({"User-Agent": firefox})
    )
    assert client_stack(CIMultiDict({"Content-Type": "application/json"})) == 0


def _sightings() -> list[Sighting]:
    """Accounts of 40 never-repeated single-turn asks, one every ~3 minutes: ``rot`` draws a
    fresh stack per request and asks for reasoning (CoT wording), ``fixed`` keeps one,
    ``two`` alternates between two devices, ``chat`` rotates but half its requests are
    follow-ups, ``fleet`` rotates among 8 services' SDKs with plain asks."""
    rng = random.Random(4)
    out = []
    for i in range(40):
        for name in NAMES:
            stack = {"fixed": 7, "two": 8 + i % 2, "fleet": 20 + rng.randrange(8)}.get(name, 0)
            if name in ("rot", "chat"):
                stack = rng.getrandbits(63) + 1
            turns = 2 if name == "chat" and i % 2 else 1
            features = RequestFeatures(
                endpoint="chat", model="m", max_tokens=1500, turns=turns, client_stack=stack
            )
            worded = 0.6 if name == "rot" else 0.0
            fp = fingerprint(rng, cell=rng.getrandbits(14), elicitation=worded)
            at = START + i * 180.0 + rng.uniform(0, 60)
            out.append(Sighting(Identity(account_id=name, tier=None), name, 1, fp, features, at))
    return sorted(out, key=lambda s: s.now)


async def _levels(
    state: DetectorStateStore,
    budgets: BudgetStore,
    keys: KeyBuilder,
    clock: FakeClock,
    churn: bool = True,
) -> dict[str, Level]:
    tuning = {"synchrony": False, "stack_churn": churn}
    policy = DetectionPolicy.model_validate({"tuning": tuning})
    engine = DetectionEngine(state, budgets, keys, lambda: policy, clock)
    sightings = _sightings()
    for at in range(0, len(sightings), 8):
        batch = sightings[at : at + 8]
        clock.set(batch[-1].now)
        await engine.observe_many(batch)
    return {n: Level(await budgets.get_level(keys.account_level(n, n))) for n in NAMES}


async def _on_memory(churn: bool) -> dict[str, Level]:
    clock = FakeClock(START)
    state, budgets = MemoryStateStore(clock), MemoryBudgetStore(clock)
    return await _levels(state, budgets, KeyBuilder("t"), clock, churn)


async def test_a_rotating_account_is_floored_and_nobody_else() -> None:
    """The synthetic asks are random enough that the per-account detectors throttle these
    busy accounts on their own: churn must raise the rotator and change nobody else (the
    fleet churns as much, but asks for nothing of harvest value)."""
    off, on = await _on_memory(False), await _on_memory(True)
    assert off["rot"] < Level.CHALLENGE <= on["rot"], (off, on)
    others = ("fixed", "two", "chat", "fleet")
    assert {n: on[n] for n in others} == {n: off[n] for n in others}


@pytest.mark.redis
async def test_redis_stacks_answer_as_memory(redis_client: Redis, key_prefix: str) -> None:
    requests = [StackRequest("a", s, 4, 60.0) for s in (1, 2, 2, 3, 4, 5, 5)]
    redis = await RedisStacks(redis_client, KeyBuilder(key_prefix)).record_stacks(requests)
    assert redis == await MemoryStacks().record_stacks(requests)
    assert [(c.kept, c.distinct) for c in redis][-2:] == [(4, 4), (4, 3)]
    clock = FakeClock(START)
    keys = KeyBuilder(key_prefix)
    state = RedisStateStore(redis_client, keys)
    levels = await _levels(state, RedisBudgetStore(redis_client, clock), keys, clock)
    assert levels == await _on_memory(True)


@pytest.mark.redis
async def test_redis_stack_runs_answer_as_memory(redis_client: Redis, key_prefix: str) -> None:
    """The runs (a stack's 8 bytes and its count, newest first) trim and count exactly as a
    list of the last ``recent`` stacks: long runs (split at 255), 64-bit stacks, a short
    ``recent``; an account sending one stack keeps 9 bytes."""
    rng = random.Random(7)
    big = [2**64 - 1, 2**63, 1, 0x0102030405060708]
    requests = [StackRequest("one", big[0], 32, 60.0) for _ in range(300)]
    for account, recent in (("r4", 4), ("r32", 32), ("r256", 256)):
        for _ in range(700):
            stack = big[rng.randrange(4)] if rng.random() < 0.6 else rng.randrange(1, 2**64)
            requests.append(StackRequest(account, stack, recent, 60.0))
            requests += [StackRequest(account, stack, recent, 60.0)] * rng.choice((0, 0, 3, 260))
    keys = KeyBuilder(key_prefix)
    redis = await RedisStacks(redis_client, keys).record_stacks(requests)
    assert redis == await MemoryStacks().record_stacks(requests)
    assert await redis_client.strlen(keys.detection("a:one", "stacks")) == 9


@pytest.mark.redis
async def test_stacks_of_the_earlier_list_are_read(redis_client: Redis, key_prefix: str) -> None:
    """A list of the stacks' decimal text (the earlier layout) is read, exactly, and rewritten
    as runs by the next request."""
    keys = KeyBuilder(key_prefix)
    key = keys.detection("a:old", "stacks")
    earlier = [2**64 - 1, 5, 5, 2**53 + 1, 2**53, 7]  # newest first, as LPUSH left them
    await redis_client.rpush(key, *[str(s) for s in earlier])
    memory = MemoryStacks()
    await memory.record_stacks([StackRequest("old", s, 8, 60.0) for s in reversed(earlier)])
    requests = [StackRequest("old", s, 8, 60.0) for s in (2**53, 2**64 - 1, 9, 2**53 + 1)]
    redis = await RedisStacks(redis_client, keys).record_stacks(requests)
    assert redis == await memory.record_stacks(requests)
    assert await redis_client.type(key) == b"string"
