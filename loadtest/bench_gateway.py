"""The gateway side of the overhead benchmark: keys, the policy of each variant, environment.

Every variant is the repository's shipped policy (``policies/``, enforce mode) or a part of
it, so the table shows what each part costs on the same accounts and model:

- ``budgets``: the shipped budgets (account, model, global, quotas, concurrency; cluster
  budgets), clusters linked by hard attributes only, no diversity budget and no detection:
  nothing on the request path needs a prompt fingerprint;
- ``off``: the shipped policy with detection disabled (diversity budgets, soft links);
- ``full``: the shipped policy as it is, read from the repository's ``policies/`` folder.

The accounts are on the ``enterprise`` tier, the shipped tier whose per-account budgets
(3000 requests/minute, 128 in flight) admit a closed-loop benchmark's share of 100 accounts:
on the smaller tiers almost every request would be a 429 and the table would measure
refusals. The model (default ``o3-mini``) has a per-account output-token budget in the
shipped policy; ``gpt-4*`` models would meet the shipped global budget of 6000/minute for
all callers together, far below a benchmark's rate.
"""

from __future__ import annotations

import copy
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loadtest.bench_procs import REPO
from loadtest.detection.policy import read_document

TIER = "enterprise"
SHIPPED = REPO / "policies"
VARIANTS = ("budgets", "off", "full")
TITLES = {
    "budgets": "gateway (budgets only)",
    "off": "gateway (detection off)",
    "full": "gateway (full, shipped policies/)",
}


def variant_document(shipped: dict[str, Any], variant: str) -> dict[str, Any]:
    """The shipped policy document cut down to ``variant`` (see the module docstring)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    document = copy.deepcopy(shipped)
    document["mode"] = "enforce"
    if variant == "full":
        return document
    detection = dict(document.get("detection") or {})
    detection["enabled"] = False
    document["detection"] = detection
    if variant == "budgets":
        for budgets in (document.get("tiers") or {}).values():
            budgets.pop("diversity", None)
        clusters = dict(document.get("clusters") or {})
        clusters["link_on"] = {**dict(clusters.get("link_on") or {}), "soft": []}
        for budgets in (clusters.get("budgets") or {}).values():
            budgets.pop("diversity", None)
        document["clusters"] = clusters
    return document


@dataclass(frozen=True)
class GatewaySetup:
    """Files the gateway processes read, and the plain keys the load generator sends."""

    keys_file: Path  # hashes, for the gateway
    plain_keys: Path  # one key a line, for the load generator
    policies: dict[str, Path]  # variant -> policy file or folder
    key_secret: str
    prefix: str  # each variant's keys start with "<prefix>-<variant>:"
    auth: str = "keys"  # "keys": API keys; "jwt": HS256 tokens (sub, tier, exp)

    def variant_prefix(self, variant: str) -> str:
        return f"{self.prefix}-{variant}"


def write_keys(keys_file: Path, accounts: int, secret: str, tier: str = TIER) -> list[str]:
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
                tier=tier,
                label="bench",
                hint=f"{KEY_PREFIX}...{key[-4:]}",
            )
        )
    write_records(keys_file, records)
    return keys


def write_tokens(accounts: int, secret: str, tier: str = TIER, hours: float = 24) -> list[str]:
    """One HS256 JWT per account (``sub``, ``tier``, ``exp``), as an identity provider
    would issue them."""
    import jwt

    expires = int(time.time() + hours * 3600)
    claims = [{"sub": f"bench-{i:04d}", "tier": tier, "exp": expires} for i in range(accounts)]
    return [jwt.encode(c, secret, algorithm="HS256") for c in claims]


def prepare(
    workdir: Path, accounts: int, shipped: Path = SHIPPED, auth: str = "keys"
) -> GatewaySetup:
    """Write the credentials of ``accounts`` accounts (API keys, or JWTs with ``auth="jwt"``)
    and the variants' policies; validate them."""
    from gateway.policy.loader import load_policy

    secret = secrets.token_hex(16)
    keys_file = workdir / "keys.yaml"
    if auth == "jwt":
        keys = write_tokens(accounts, secret)
    else:
        keys = write_keys(keys_file, accounts, secret)
    plain = workdir / "plain-keys.txt"
    plain.write_text("\n".join(keys) + "\n")
    os.chmod(plain, 0o600)
    document = read_document(shipped)
    policies: dict[str, Path] = {"full": shipped}
    for name in VARIANTS:
        if name == "full":
            continue
        path = workdir / f"policy-{name}.yaml"
        path.write_text(yaml.safe_dump(variant_document(document, name), sort_keys=False))
        policies[name] = path
    for path in policies.values():
        load_policy(path)  # fail here, with the loader's message, rather than in the gateway
    return GatewaySetup(keys_file, plain, policies, secret, f"dgbench{os.getpid()}", auth)


def gateway_env(
    setup: GatewaySetup,
    variant: str,
    ports: tuple[int, int],
    upstream: str,
    store: str,
) -> dict[str, str]:
    """The settings env of ``gateway serve`` (and of its ``gateway detect`` workers)."""
    port, admin_port = ports
    if setup.auth == "jwt":
        credentials = {"GATEWAY_JWT_SECRET": setup.key_secret, "GATEWAY_JWT_ALGORITHMS": "HS256"}
    else:
        credentials = {"GATEWAY_KEYS_FILE": str(setup.keys_file)}
    return {
        **credentials,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_ADMIN_LISTEN": f"127.0.0.1:{admin_port}",
        "GATEWAY_UPSTREAM": upstream,
        "GATEWAY_STORE": store,
        "GATEWAY_STORE_PREFIX": setup.variant_prefix(variant),
        "GATEWAY_POLICIES": str(setup.policies[variant]),
        "GATEWAY_KEY_SECRET": setup.key_secret,
        "GATEWAY_LINK_SECRET": setup.key_secret,  # a bench secret: any value shared by replicas
        "GATEWAY_CHALLENGE_SECRET": setup.key_secret,
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_WORKERS": "1",
    }
