"""Threat-model claims that had no test of their own (docs/threat-model.md): what the gateway
stores in Redis holds no prompt text and no raw linking value, and a detection level's answer
never says which signal fired or why."""

from __future__ import annotations

from pathlib import Path

import pytest
from gateway_harness import ADMIN_TOKEN, running_gateway
from redis.asyncio import Redis

REPO = Path(__file__).resolve().parents[2]
PROMPT_MARKER = "zebra-quartz-prompt-4417"
ORG_MARKER = "org-walrus-9931"
ACCOUNTS = {"alice": ("free", {"org_id": ORG_MARKER}), "bob": ("free", {"org_id": ORG_MARKER})}
FAMILIES = ("coverage", "templating", "elicitation", "shape", "timing", "coordination", "cohort")


def _default_policy() -> str:
    return (REPO / "policies" / "default.yaml").read_text()


async def _dump(client: Redis, pattern: str) -> bytes:
    """Every key matching ``pattern`` and its value, whatever the type, as one byte string."""
    out: list[bytes] = []
    async for key in client.scan_iter(match=pattern, count=500):
        out.append(key if isinstance(key, bytes) else str(key).encode())
        kind = await client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            value = await client.get(key)
            out.append(value if isinstance(value, bytes) else str(value).encode())
        elif kind == "hash":
            for k, v in (await client.hgetall(key)).items():
                out += [str(k).encode(), str(v).encode()]
        elif kind == "zset":
            out += [str(m).encode() for m in await client.zrange(key, 0, -1)]
        elif kind == "set":
            out += [str(m).encode() for m in await client.smembers(key)]
        elif kind == "list":
            out += [str(m).encode() for m in await client.lrange(key, 0, -1)]
        elif kind == "stream":
            out += [str(e).encode() for e in await client.xrange(key)]
    return b"\n".join(out)


@pytest.mark.redis
async def test_redis_holds_no_prompt_text_and_no_raw_linking_value(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    async with running_gateway(
        tmp_path,
        policy=_default_policy(),
        accounts=ACCOUNTS,
        store=redis_url,
        store_prefix=key_prefix,
    ) as gw:
        for i in range(6):
            for account in ("alice", "bob"):
                content = f"Explain step by step {PROMPT_MARKER} number {i}"
                response = await gw.chat(account, content=content)
                assert response.status == 200
        await gw.state.observations_applied()
        stored = await _dump(redis_client, f"*{key_prefix}*")
    assert stored, "the gateway wrote nothing under its prefix: the scan looked in the wrong place"
    assert PROMPT_MARKER.encode() not in stored
    assert ORG_MARKER.encode() not in stored


@pytest.mark.parametrize("level", ["throttle", "degrade", "challenge", "block"])
async def test_a_detection_level_answer_names_no_signal_and_no_reason(
    tmp_path: Path, level: str
) -> None:
    reason = "elicitation and templating fired: coverage sweep"
    async with running_gateway(
        tmp_path, policy=_default_policy(), accounts={"prober": ("free", {})}
    ) as gw:
        pinned = await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/prober/level",
            json={"level": level, "ttl": 600, "reason": reason},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert pinned.status == 200
        answers = []
        for _ in range(12):  # a throttle shows only once the scaled bucket runs dry
            response = await gw.chat("prober", logprobs=True, n=2)
            answers.append((response.status, await response.text(), dict(response.headers)))
    statuses = {status for status, _, _ in answers}
    expected = {"throttle": 429, "degrade": 200, "challenge": 403, "block": 403}[level]
    assert expected in statuses, statuses
    for _, body, headers in answers:
        text = (body + " " + " ".join(f"{k}: {v}" for k, v in headers.items())).lower()
        assert reason.lower() not in text
        for family in FAMILIES:
            assert family not in text, (family, text[:400])


@pytest.mark.redis
async def test_the_dump_sees_a_value_of_every_type(key_prefix: str, redis_client: Redis) -> None:
    marker = PROMPT_MARKER
    await redis_client.set(f"{key_prefix}:s", marker)
    await redis_client.hset(f"{key_prefix}:h", "f", marker)
    await redis_client.zadd(f"{key_prefix}:z", {marker: 1})
    await redis_client.sadd(f"{key_prefix}:set", marker)
    await redis_client.rpush(f"{key_prefix}:l", marker)
    await redis_client.xadd(f"{key_prefix}:x", {"f": marker})
    for suffix in ("s", "h", "z", "set", "l", "x"):
        dumped = await _dump(redis_client, f"{key_prefix}:{suffix}")
        assert marker.encode() in dumped.split(b"\n", 1)[1], suffix
