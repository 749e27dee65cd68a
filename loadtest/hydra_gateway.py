"""Hydra scenario through the whole gateway (in process, memory store, simulated time).

* 1,000 hydra accounts sharing payment cards and org ids (10 accounts per value, under the
  hot-value limit), each staying under its own 5 requests/minute: the gateway links them into
  one cluster and holds them to the cluster budget.
* 1,000 unrelated employees behind one corporate NAT /24, each with its own prompts: the /24
  is a hot value and links nobody; each keeps its own 5/minute.

Prints admitted requests per simulated minute for both groups, next to what the same
accounts would get without linking.  ``python -m loadtest.hydra_gateway [--accounts N]
[--minutes M]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from gateway.app import build_app, build_state
from gateway.auth.api_keys import generate_key, hash_key
from gateway.auth.keys_file import KeyRecord, write_records
from gateway.clock import FakeClock
from gateway.mock.app import build_mock_app
from gateway.observability.logging import configure_logging
from gateway.settings import Settings
from loadtest.corpus import load_prompts

ACCOUNT_PER_MINUTE = 5
POLICY = """
version: 1
defaults: {tier: free}
tiers:
  free:
    requests: {rate: 5/minute, burst: 5}
clusters:
  link_on: {hard: [payment_fingerprint, org_id], soft: [ip_prefix, template, synchrony]}
  hot_value_limit: 50
  max_size: 5000
  growth: sqrt
  scale_explicit: true          # the cluster budget grows with sqrt(members)
  budgets:
    free: {requests: {rate: 8/minute, burst: 8}}
detection: {enabled: false}
"""


def _accounts(n: int) -> list[tuple[str, dict[str, str], str]]:
    hydra = [
        (
            f"hydra{k:04d}",
            {"payment_fingerprint": f"card-{k // 10}", "org_id": f"org-{(k + 5) // 10}"},
            f"198.51.{k % 200}.{k // 200 + 1}",
        )
        for k in range(n)
    ]
    office = [(f"office{k:04d}", {}, f"192.0.2.{k % 250 + 1}") for k in range(n)]
    return hydra + office


_WORDS = (
    "budget",
    "meeting",
    "invoice",
    "python",
    "summary",
    "travel",
    "contract",
    "design",
    "report",
    "schedule",
    "customer",
    "release",
    "training",
    "policy",
    "quarterly",
    "roadmap",
    "hiring",
    "pricing",
    "support",
    "migration",
    "security",
    "audit",
)


def _prompt(prompts: list[str], account: str, i: int) -> str:
    """Office staff write their own prompts: a corpus prompt plus their own context words
    (the sample is small, so bare corpus prompts would repeat across people)."""
    seed = sum(map(ord, account)) * 131 + i * 17
    words = " ".join(_WORDS[(seed >> k) % len(_WORDS)] for k in range(0, 24, 3))
    base = prompts[(seed // 7) % len(prompts)]
    return f"{base}\n\nMy context: {words}" if account.startswith("office") else base


def _keys(path: Path, accounts: list[tuple[str, dict[str, str], str]]) -> dict[str, str]:
    keys: dict[str, str] = {}
    records = []
    for account, attrs, _ip in accounts:
        key = generate_key()
        alg, digest = hash_key(key, None)
        records.append(
            KeyRecord(
                id=digest[:12], alg=alg, hash=digest, account_id=account, tier="free", attrs=attrs
            )
        )
        keys[account] = key
    write_records(path, records)
    return keys


async def run(n: int, minutes: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hydra-"))
    (work / "policy.yaml").write_text(POLICY)
    accounts = _accounts(n)
    keys = _keys(work / "keys.yaml", accounts)
    prompts = [p.text[:400] for p in load_prompts("benign", full=False)]
    clock = FakeClock()
    mock = TestServer(build_mock_app(), host="127.0.0.1")
    await mock.start_server()
    settings = Settings(
        listen="127.0.0.1:0",
        upstream=str(mock.make_url("")).rstrip("/"),
        store="memory://",
        policies=str(work / "policy.yaml"),
        keys_file=str(work / "keys.yaml"),
        trusted_proxies=("127.0.0.0/8",),
        challenge_secret="hydra-hydra-hydra-hydra-hydra-hydra",
        link_secret="hydra-link-hydra-link-hydra-link",
        log_level="error",
    )
    state = build_state(settings, clock)
    server = TestServer(build_app(settings, state=state), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("/v1/chat/completions"))
    admitted = {"hydra": 0, "office": 0}
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:

        async def send(i: int, account: str, ip: str) -> None:
            body = {
                "model": "m",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": _prompt(prompts, account, i)}],
            }
            headers = {"Authorization": f"Bearer {keys[account]}", "X-Forwarded-For": ip}
            async with http.post(url, json=body, headers=headers) as response:
                await response.read()
                if response.status == 200 and clock.now() >= measure_from:
                    admitted["hydra" if account.startswith("hydra") else "office"] += 1

        measure_from = float("inf")
        # one request each to let the linker see every account, then measure
        for batch in range(0, len(accounts), 100):
            await asyncio.gather(
                *(
                    send(batch + j, a, ip)
                    for j, (a, _, ip) in enumerate(accounts[batch : batch + 100])
                )
            )
        await state.observations_applied()
        state.clusters.clear()
        clock.advance(120)
        measure_from = clock.now()
        slots = ACCOUNT_PER_MINUTE * minutes
        for step in range(slots):  # each account asks at exactly its own rate
            for batch in range(0, len(accounts), 100):
                await asyncio.gather(
                    *(
                        send(step * 7 + batch + j, a, ip)
                        for j, (a, _, ip) in enumerate(accounts[batch : batch + 100])
                    )
                )
            clock.advance(60 / ACCOUNT_PER_MINUTE)
        hydra_cluster = await state.clusters.get("hydra0000")
        office_sizes = {
            (await state.clusters.get(a)).size for a, _, _ in accounts if a.startswith("office")
        }
    await server.close()
    await mock.close()
    unlinked = n * ACCOUNT_PER_MINUTE
    return {
        "accounts_per_group": n,
        "simulated_minutes": minutes,
        "hydra_cluster_size": hydra_cluster.size,
        "hydra_admitted_per_minute": admitted["hydra"] / minutes,
        "hydra_unlinked_per_minute": unlinked,
        "hydra_cluster_budget_per_minute": round(8 * hydra_cluster.size**0.5, 1),
        "office_largest_cluster": max(office_sizes),
        "office_admitted_per_minute": admitted["office"] / minutes,
        "office_unlinked_per_minute": unlinked,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    configure_logging("json", "error")
    parser = argparse.ArgumentParser(prog="python -m loadtest.hydra_gateway")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.accounts, args.minutes)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
