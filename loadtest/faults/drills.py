"""The fault drills: Redis killed / frozen (both failure modes at once), upstream killed /
hung, client disconnects mid-stream. Each returns table rows; every phase is bounded in
requests and seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import aiohttp
from redis.asyncio import Redis

from loadtest.faults.load import Answer, Row, chat, chat_payload, load, row, statuses
from loadtest.faults.stack import Gateway, Stack, fallbacks

Fault = Literal["kill", "freeze"]
RECOVERY_LIMIT = 20.0  # seconds a drill waits for the gateway to be back to normal


@dataclass(frozen=True)
class Plan:
    before: float  # seconds of healthy load before a Redis fault (the baseline)
    during: float  # seconds of load during a Redis fault (the breaker reopens every 3 s)
    upstream: float  # seconds of load during an upstream fault
    workers: int  # concurrent clients per gateway
    max_requests: int  # per gateway and phase
    disconnects: int  # streams the client hangs up on
    parallel: int  # concurrent streams


FULL = Plan(before=2.0, during=4.0, upstream=2.5, workers=4, max_requests=5000,
            disconnects=1000, parallel=32)  # fmt: skip
QUICK = Plan(before=1.0, during=3.5, upstream=1.5, workers=3, max_requests=2000,
             disconnects=200, parallel=16)  # fmt: skip


Http = aiohttp.ClientSession


async def redis_drill(stack: Stack, http: Http, fault: Fault, plan: Plan) -> list[Row]:
    """Load both gateways, kill (or freeze) Redis, load on, bring it back; time until
    budget decisions are made on Redis again."""
    gateways = list(stack.gateways.values())

    async def phase(seconds: float) -> list[list[Answer]]:
        loads = [load(sender(http, g), seconds, plan.workers, plan.max_requests) for g in gateways]
        return list(await asyncio.gather(*loads))

    base = await phase(plan.before)
    if fault == "kill":
        stack.kill_redis()
    else:
        stack.freeze_redis(True)
    try:
        during = await phase(plan.during)
    finally:
        if fault == "kill":
            stack.start_redis()
        else:
            stack.freeze_redis(False)
    back = time.perf_counter()
    waits = await asyncio.gather(*(on_redis_again(http, g, back) for g in gateways))
    name = "Redis killed" if fault == "kill" else "Redis frozen"
    return [
        row(name, g.mode, d, b, f"on Redis again after {w}")
        for g, d, b, w in zip(gateways, during, base, waits, strict=True)
    ]


def sender(http: Http, gateway: Gateway) -> Callable[[], Awaitable[Answer]]:
    """Chat completions of the gateway's ``load`` account."""
    return lambda: chat(http, gateway.url, gateway.keys["load"])


async def on_redis_again(http: aiohttp.ClientSession, gateway: Gateway, since: float) -> str:
    """Seconds from ``since`` until a request is admitted by Redis (not by the fallback)."""
    key = gateway.keys["load"]
    while time.perf_counter() - since < RECOVERY_LIMIT:
        before = await fallbacks(http, gateway) if gateway.mode == "open" else 0.0
        answer = await chat(http, gateway.url, key)
        decided_on_redis = gateway.mode == "closed" or await fallbacks(http, gateway) == before
        if answer.status == 200 and decided_on_redis:
            return f"{time.perf_counter() - since:.1f} s"
        await asyncio.sleep(0.05)
    return f"not within {RECOVERY_LIMIT:.0f} s"


async def upstream_drill(stack: Stack, http: Http, fault: Fault, plan: Plan) -> Row:
    """Kill (or freeze) the mock upstream under load: what clients get, and how fast."""
    send = sender(http, stack.gateways["open"])

    base = await load(send, 0.5, plan.workers, plan.max_requests)
    if fault == "kill":
        stack.kill_mock()
    else:
        stack.freeze_mock(True)
    try:
        answers = await load(send, plan.upstream, plan.workers, plan.max_requests)
    finally:
        if fault == "kill":
            stack.start_mock()
        else:
            stack.freeze_mock(False)
    back = time.perf_counter()
    for _ in range(int(RECOVERY_LIMIT / 0.05)):
        if (await send()).status == 200:
            break
        await asyncio.sleep(0.05)
    name = "upstream killed" if fault == "kill" else "upstream hung"
    return row(name, "-", answers, base, f"200 again after {time.perf_counter() - back:.1f} s")


async def disconnect_drill(stack: Stack, http: Http, plan: Plan) -> Row:
    """Clients that hang up after the first bytes of a stream: no concurrency slot may stay
    taken in Redis once the gateway has noticed."""
    gateway = stack.gateways["open"]
    url = f"{gateway.url}/v1/chat/completions"
    headers = {"Authorization": f"Bearer {gateway.keys['stream']}",
               "x-mock-chunk-delay-ms": "50", "x-mock-chunks": "40"}  # fmt: skip
    timeout = aiohttp.ClientTimeout(total=10)

    async def hang_up() -> Answer:
        started = time.perf_counter()
        status = 0
        try:
            payload = chat_payload(stream=True)
            async with http.post(url, json=payload, headers=headers, timeout=timeout) as response:
                status = response.status
                if status == 200:
                    await response.content.readany()  # the first bytes of the stream
                response.close()  # hang up mid-stream
        except (aiohttp.ClientError, TimeoutError):
            pass
        return Answer(started, status, time.perf_counter() - started)

    answers = await load(hang_up, 60.0, plan.parallel, plan.disconnects)
    done = time.perf_counter()
    leaked = await live_leases(stack.redis_url, gateway.prefix)
    while leaked and time.perf_counter() - done < 5.0:
        await asyncio.sleep(0.1)
        leaked = await live_leases(stack.redis_url, gateway.prefix)
    after = f"leaked slots: {leaked} ({time.perf_counter() - done:.1f} s after the last)"
    return row("client hangs up mid-stream", "open", answers, None, after)


async def live_leases(redis_url: str, prefix: str) -> int:
    """Concurrency slots held in Redis under ``prefix`` (leases not yet expired)."""
    client = Redis.from_url(redis_url)
    try:
        seconds, micros = await client.time()
        now = seconds + micros / 1e6
        total = 0
        async for key in client.scan_iter(match=f"{prefix}:*:concurrency", count=1000):
            total += await client.zcount(key, f"({now}", "+inf")
        return total
    finally:
        await client.aclose()


async def warm_up(http: Http, gateway: Gateway) -> None:
    """Connections, first lookups, Redis states seen: 3 answers 200 in a row."""
    send, answers = sender(http, gateway), []
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_LIMIT:
        answers.append(await send())
        if len(answers) >= 3 and all(a.status == 200 for a in answers[-3:]):
            return
    raise RuntimeError(f"gateway {gateway.mode} does not serve: {statuses(answers)}")


async def run_all(stack: Stack, plan: Plan) -> list[Row]:
    rows: list[Row] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for gateway in stack.gateways.values():
            await warm_up(http, gateway)
        for fault in ("kill", "freeze"):
            rows += await redis_drill(stack, http, fault, plan)  # type: ignore[arg-type]
        for fault in ("kill", "freeze"):
            rows.append(await upstream_drill(stack, http, fault, plan))  # type: ignore[arg-type]
        rows.append(await disconnect_drill(stack, http, plan))
    return rows
