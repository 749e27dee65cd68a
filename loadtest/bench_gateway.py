"""The gateway side of the overhead benchmark: keys, policies, environment, Redis counters."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TIER = "bench"
HUGE = 1_000_000_000


@dataclass(frozen=True)
class Variant:
    detection: bool
    soft_links: bool  # template/synchrony/IP links: the linker needs every prompt's frame
    every_kind: bool  # also window quotas (day, month) and a global budget


VARIANTS = {
    "on": Variant(detection=True, soft_links=True, every_kind=True),
    "off": Variant(detection=False, soft_links=True, every_kind=True),
    "budgets": Variant(detection=False, soft_links=False, every_kind=False),
    "all": Variant(detection=False, soft_links=False, every_kind=True),
}
"""Gateway variants. ``budgets`` is the issue's target configuration: auth, and account,
cluster and model budgets (requests and tokens) plus concurrency, on Redis; no detection,
clusters linked by hard attributes only (no prompt fingerprint on any path). ``all`` adds
window quotas and a global budget; ``off`` and ``on`` add soft links and detection."""


def policy_document(
    detection: bool, *, soft_links: bool = True, every_kind: bool = True
) -> dict[str, Any]:
    """Generous budgets (nothing is refused), detection on or off."""
    budgets: dict[str, Any] = {
        "requests": {"rate": f"{HUGE}/minute", "burst": HUGE},
        "tokens": {"rate": f"{HUGE}/minute", "burst": HUGE},
        "concurrency": 10_000,
    }
    if every_kind:
        budgets["quotas"] = [f"{HUGE}/day", {"limit": f"{HUGE}/month", "unit": "tokens"}]
    document: dict[str, Any] = {
        "version": 1,
        "defaults": {"tier": TIER, "failure_mode": "closed", "max_tokens": 256},
        "tiers": {TIER: budgets},
        "models": {"gpt-4o*": {"*": {"requests": f"{HUGE}/minute", "tokens": f"{HUGE}/minute"}}},
        "clusters": {
            "link_on": {
                "hard": ["payment_fingerprint", "org_id"],
                "soft": ["ip_prefix", "template", "synchrony"] if soft_links else [],
            },
            "budgets": {TIER: {"requests": f"{HUGE}/minute", "tokens": f"{HUGE}/minute"}},
        },
        "detection": {"enabled": detection},
    }
    if every_kind:
        document["global"] = {"*": {"requests": f"{HUGE}/minute"}}
    return document


@dataclass(frozen=True)
class GatewaySetup:
    """Files the gateway processes read, and the plain keys the load generator sends."""

    keys_file: Path  # hashes, for the gateway
    plain_keys: Path  # one key a line, for the load generator
    policies: dict[str, Path]  # variant name (see VARIANTS) -> policy file
    key_secret: str
    prefix: str


def write_keys(keys_file: Path, accounts: int, secret: str) -> list[str]:
    """One key per account, as ``api_keys.new_key`` makes them, written in one go
    (``new_key`` rewrites the file per key: quadratic for hundreds of accounts)."""
    from gateway.auth.api_keys import KEY_PREFIX, generate_key, hash_key
    from gateway.auth.keys_file import KeyRecord, write_records

    keys, records = [], []
    for i in range(accounts):
        key = generate_key()
        alg, digest = hash_key(key, secret)
        keys.append(key)
        records.append(
            KeyRecord(
                id=digest[:12],
                alg=alg,
                hash=digest,
                account_id=f"bench-{i:04d}",
                tier=TIER,
                label="bench",
                hint=f"{KEY_PREFIX}...{key[-4:]}",
            )
        )
    write_records(keys_file, records)
    return keys


def prepare(workdir: Path, accounts: int) -> GatewaySetup:
    """Write a keys file of ``accounts`` accounts and the two policies; validate them."""
    from gateway.auth.api_keys import new_key
    from gateway.policy.loader import load_policy

    secret = secrets.token_hex(16)
    keys_file = workdir / "keys.yaml"
    keys = [new_key(keys_file, f"bench-{i:04d}", tier=TIER, secret=secret) for i in range(accounts)]
    plain = workdir / "plain-keys.txt"
    plain.write_text("\n".join(keys) + "\n")
    os.chmod(plain, 0o600)
    policies = {}
    for name, variant in VARIANTS.items():
        path = workdir / f"policy-detection-{name}.yaml"
        document = policy_document(
            variant.detection, soft_links=variant.soft_links, every_kind=variant.every_kind
        )
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        load_policy(path)  # fail here, with the loader's message, rather than in the gateway
        policies[name] = path
    return GatewaySetup(keys_file, plain, policies, secret, f"dgbench{os.getpid()}")


def gateway_env(
    setup: GatewaySetup, detection: str, port: int, admin_port: int, upstream: str, store: str
) -> dict[str, str]:
    return {
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_ADMIN_LISTEN": f"127.0.0.1:{admin_port}",
        "GATEWAY_UPSTREAM": upstream,
        "GATEWAY_STORE": store,
        "GATEWAY_STORE_PREFIX": setup.prefix,
        "GATEWAY_POLICIES": str(setup.policies[detection]),
        "GATEWAY_KEYS_FILE": str(setup.keys_file),
        "GATEWAY_KEY_SECRET": setup.key_secret,
        "GATEWAY_LINK_SECRET": setup.key_secret,  # a bench secret: any value shared by replicas
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_WORKERS": "1",
    }


class RedisCounters:
    """``INFO commandstats`` of the store, to count the commands the gateway sends."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5)

    def snapshot(self) -> dict[str, int]:
        stats: dict[str, Any] = self.client.info("commandstats")
        return {
            name.removeprefix("cmdstat_"): int(v["calls"])
            for name, v in stats.items()
            if name != "cmdstat_info"
        }

    def reads(self) -> int:
        """Read events the server processed (``INFO stats``): one per client write it
        reads, so about one per round trip. The INFO call itself counts one."""
        stats: dict[str, Any] = self.client.info("stats")
        return int(stats.get("total_reads_processed", 0))

    @staticmethod
    def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
        out = {k: v - before.get(k, 0) for k, v in after.items()}
        return {k: v for k, v in out.items() if v > 0}

    def remove_prefix(self, prefix: str) -> int:
        """Delete the benchmark's keys (they all start with its prefix)."""
        removed = 0
        batch: list[Any] = []
        for key in self.client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                removed += int(self.client.unlink(*batch))
                batch.clear()
        if batch:
            removed += int(self.client.unlink(*batch))
        return removed

    def close(self) -> None:
        self.client.close()
