"""Budgets are exact across replicas: 3 gateway processes on one store, 300 concurrent requests.

One fleet per store kind (a single Redis, a 3-node Redis Cluster): a mock upstream process and
three ``python -m gateway serve`` processes with the same policy, keys and key prefix. Each test
uses its own account, so tests on one fleet never share a budget.

Processes run on real time. Rates are per hour with the burst equal to the hourly amount, so
one unit refills in 180 s (requests) or ~176 s per 10 tokens (tokens): the few seconds a burst
takes refill nothing that could admit one more request.

``failure_mode: closed``: a store call that timed out under load shows up as a 503 (and fails
the test) instead of being hidden by the per-process fallback limiter.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis_servers import delete_prefix
from replica_procs import GatewayConfig, Proc, ProcessGroup, write_keys, write_policy

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(240)]

REPLICAS = 3
REQUESTS = 300
BURST = 20  # requests
TOKEN_BURST = 205  # tokens; each request reserves MAX_TOKENS output tokens
MAX_TOKENS = 10
BURST_DEADLINE = 90.0  # seconds for all 300 requests, generous on a busy 2-core machine

POLICY = f"""
version: 1
defaults: {{tier: req, failure_mode: closed, max_tokens: 64}}
tiers:
  req:
    requests: {{rate: {BURST}/hour, burst: {BURST}}}
  tok:
    tokens: {{rate: {TOKEN_BURST}/hour, burst: {TOKEN_BURST}, count: output}}
  warm:
    requests: {{rate: 100000/minute, burst: 100000}}
detection: {{enabled: true, mode: shadow}}
"""
ACCOUNTS = {
    "req-a": "req",
    "req-b": "req",
    "tok-a": "tok",
    "tok-b": "tok",
    **{f"warm-{i}": "warm" for i in range(6)},
}


@dataclass
class Fleet:
    store: str
    prefix: str
    gateways: list[Proc]
    mock: Proc
    keys: dict[str, str]


@pytest.fixture(scope="module", params=["redis", "cluster"])
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    store = request.getfixturevalue(
        "redis_url" if request.param == "redis" else "redis_cluster_url"
    )
    folder = tmp_path_factory.mktemp(f"fleet-{request.param}")
    prefix = request.getfixturevalue("prefixes").new()  # checked for leftovers at the end
    keys_file, keys = write_keys(folder, ACCOUNTS)
    with ProcessGroup(folder) as group:
        mock = group.start_mock()
        config = GatewayConfig(
            store=store,
            upstream=mock.url,
            store_prefix=prefix,
            policy_file=write_policy(folder, POLICY),
            keys_file=keys_file,
            replicas=REPLICAS,
            # exactness, not store deadlines, is measured here: a burst of 100 per replica on 2
            # shared cores can keep a healthy store call past the 250 ms default
            extra_env={"GATEWAY_STORE_TIMEOUT_MS": "1000"},
        )
        gateways = group.start_gateways(config, REPLICAS)
        fleet = Fleet(store, prefix, gateways, mock, keys)
        try:
            asyncio.run(_warm_up(fleet))
            yield fleet
        finally:
            asyncio.run(_delete_keys(store, prefix))


async def _warm_up(fleet: Fleet) -> None:
    """Fill every replica's connection pools before measuring: a cold pool opens up to 64
    connections per Redis node at once, which on a CPU-starved machine can take longer than
    the store timeout (the gateway then fails closed with 503: a latency matter, not the
    exactness these tests measure). Six accounts, so every cluster node gets traffic."""
    for i in range(6):
        answers = await _burst(fleet, f"warm-{i}", 90)
        assert {a.status for a in answers} <= {200, 503}, _summary(answers)
    deadline = time.monotonic() + 15  # a breaker a cold burst opened closes within 3 s
    while time.monotonic() < deadline:
        if {a.status for a in await _burst(fleet, "warm-0", REPLICAS)} == {200}:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the fleet does not serve after its warm-up")


async def _delete_keys(store: str, prefix: str) -> None:
    client: Redis | RedisCluster
    if store.startswith("redis+cluster://"):
        host, _, port = store.removeprefix("redis+cluster://").split(",")[0].rpartition(":")
        client = RedisCluster(host=host, port=int(port))
    else:
        client = Redis.from_url(store)
    try:
        await delete_prefix(client, prefix)
    finally:
        await client.aclose()


@dataclass(frozen=True)
class Answer:
    replica: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


async def _chat(
    http: aiohttp.ClientSession, fleet: Fleet, replica: int, account: str, i: int
) -> Answer:
    payload = {
        "model": "mock-gpt",
        "max_tokens": MAX_TOKENS,
        "messages": [{"role": "user", "content": f"Count to three, please ({i})."}],
    }
    url = f"{fleet.gateways[replica].url}/v1/chat/completions"
    headers = {"Authorization": f"Bearer {fleet.keys[account]}"}
    async with http.post(url, json=payload, headers=headers) as response:
        body = await response.json(content_type=None)
        return Answer(replica, response.status, body, dict(response.headers))


async def _burst(fleet: Fleet, account: str, count: int) -> list[Answer]:
    """``count`` concurrent requests, round-robin over the replicas."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=BURST_DEADLINE)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        calls = [_chat(http, fleet, i % REPLICAS, account, i) for i in range(count)]
        async with asyncio.timeout(BURST_DEADLINE):
            return await asyncio.gather(*calls)


async def _mock_total(fleet: Fleet) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{fleet.mock.url}/mock/stats") as response,
    ):
        total: int = (await response.json())["total"]
        return total


def _summary(answers: list[Answer]) -> str:
    by = Counter((a.replica, a.status) for a in answers)
    return ", ".join(f"replica {r} -> {s}: {n}" for (r, s), n in sorted(by.items()))


def _assert_exact(answers: list[Answer], admitted: int, refusal_type: str) -> None:
    statuses = Counter(a.status for a in answers)
    odd = next((a.body for a in answers if a.status not in (200, 429)), None)
    assert statuses == {200: admitted, 429: len(answers) - admitted}, (_summary(answers), odd)
    for answer in answers:
        if answer.status == 429:
            assert answer.body["error"]["type"] == refusal_type, answer.body
            assert int(answer.headers["Retry-After"]) >= 1


async def _assert_every_replica_refuses(fleet: Fleet, account: str) -> None:
    """Each replica alone would still have budget: all refusing proves the budget is shared."""
    answers = await _burst(fleet, account, REPLICAS)
    assert [a.status for a in answers] == [429] * REPLICAS, _summary(answers)


async def test_requests_budget_is_exact_across_replicas(fleet: Fleet) -> None:
    before = await _mock_total(fleet)
    started = time.perf_counter()
    answers = await _burst(fleet, "req-a", REQUESTS)
    took = time.perf_counter() - started
    _assert_exact(answers, BURST, "requests")
    assert await _mock_total(fleet) - before == BURST  # refused requests never reach upstream
    await _assert_every_replica_refuses(fleet, "req-a")
    ok = await _burst(fleet, "req-b", 1)  # another account's budget is untouched
    assert ok[0].status == 200
    print(f"\n{fleet.store.split(':')[0]}: {REQUESTS} requests in {took:.2f}s; {_summary(answers)}")


async def test_tokens_budget_is_exact_across_replicas(fleet: Fleet) -> None:
    before = await _mock_total(fleet)
    started = time.perf_counter()
    answers = await _burst(fleet, "tok-a", REQUESTS)
    took = time.perf_counter() - started
    admitted = TOKEN_BURST // MAX_TOKENS
    _assert_exact(answers, admitted, "tokens")
    for answer in answers:
        if answer.status == 200:  # real usage == reservation: settlement refunds nothing
            assert answer.body["usage"]["completion_tokens"] == MAX_TOKENS
    assert await _mock_total(fleet) - before == admitted
    await _assert_every_replica_refuses(fleet, "tok-a")
    print(
        f"\n{fleet.store.split(':')[0]}: {REQUESTS} token requests in {took:.2f}s; "
        f"{_summary(answers)}"
    )
