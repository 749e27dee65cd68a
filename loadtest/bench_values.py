"""Redis CPU and memory of the linker's ``value.lua``: this checkout's (records of values seen
by one account in sharded hashes, observations_redis.VALUE_SHARDS) against another commit's
(default ``main``), side by side on a private redis-server.

The workload is the evidence a day of sightings brings: ``--accounts`` accounts, each sighting
one value: most are the account's own (seen by nobody else: a home prefix, its own templates),
some shared by a group of three (a squad's prefix) and a few shared by 70 accounts, more than
the shipped ``hot_value_limit`` (50: a NAT, they turn hot). Each round runs ``--calls``
sightings on each side (the order alternates), pipelined 50 at a time, on the same simulated
clock. Reported per side: the server's CPU (``INFO cpu``) per call, per round and its median,
B's median ratio to A, and at the end ``MEMORY USAGE`` of each side's keys, per value seen;
and how many replies differ between the sides (exit status 1 if any: same answers).
Side A's script must take the key per value (``{xv:<signal>:<hash>}``) and ARGV account, now,
limit, ttl, sighting (main's until this change); side B's gets this checkout's arguments.

``python -m loadtest.bench_values [--base main] [--rounds 8] [--calls 2000] [--accounts 1000]``
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from gateway.clusters.observations import ValueAdd
from gateway.clusters.observations_redis import value_args
from gateway.redis.keys import KeyBuilder
from loadtest.bench_lua import cpu, ratios
from loadtest.bench_procs import REPO, start_redis

LUA = "gateway/clusters/lua/value.lua"
LIMIT, TTL = 50, 7 * 86400.0  # the shipped hot_value_limit and observation_ttl


def script_text(ref: str | None) -> str:
    if ref is None:
        return (REPO / LUA).read_text(encoding="utf-8")
    shown = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:{LUA}"], check=True, capture_output=True, text=True
    )
    return shown.stdout


def workload(args: argparse.Namespace, rng: random.Random) -> list[ValueAdd]:
    """One round's sightings (the same on both sides), a second apart."""
    adds = []
    for i in range(args.calls):
        n = rng.randrange(args.accounts)
        roll = rng.random()
        if roll < 0.75:
            value = f"own{n}-{rng.randrange(8)}"
        elif roll < 0.95:
            value = f"squad{n // 3}"
        else:
            value = f"nat{n // 70}"
        value_hash = hashlib.blake2b(value.encode(), digest_size=6).hexdigest()
        at = args.start + i
        adds.append(ValueAdd("ip_prefix", value_hash, f"acct{n}", at, LIMIT, TTL, f"s{at}"))
    args.start += args.calls
    return adds


def old_args(prefix: str, add: ValueAdd) -> list[Any]:
    key = f"{prefix}:{{xv:{add.signal}:{add.value_hash}}}"
    return [key, add.account, repr(add.now), add.limit, repr(add.ttl), add.sighting]


def run_side(client: Any, sha: str, side: str, adds: list[ValueAdd]) -> tuple[float, list[Any]]:
    """One round on one side: Redis CPU µs per call, and the replies."""
    keys = KeyBuilder(side)
    replies: list[Any] = []
    before = cpu(client)
    for start in range(0, len(adds), 50):
        pipe = client.pipeline(transaction=False)
        for add in adds[start : start + 50]:
            argv = old_args(side, add) if side == "a" else value_args(keys, add)
            pipe.execute_command("EVALSHA", sha, 1, *argv)
        replies += pipe.execute()
    return float((cpu(client) - before) * 1e6 / len(adds)), replies


def memory(client: Any, side: str) -> tuple[int, int]:
    """Keys and MEMORY USAGE bytes of one side."""
    found = [0, 0]
    for key in client.scan_iter(match=f"{side}:*", count=1000):
        found[0] += 1
        found[1] += int(client.memory_usage(key, samples=0) or 0)
    return found[0], found[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_values")
    parser.add_argument("--base", default="main", help="commit of side A (default main)")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds")
    parser.add_argument("--calls", type=int, default=2000, help="sightings per side and round")
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args(argv)
    args.start = 1_800_000_000
    import redis

    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="dg-values-") as workdir:
        proc, url = start_redis(Path(workdir))
        try:
            client = redis.Redis.from_url(url)
            sides = {
                f"A ({args.base})": client.script_load(script_text(args.base)),
                "B (this checkout)": client.script_load(script_text(None)),
            }
            spent: dict[str, list[float]] = {name: [] for name in sides}
            values: set[str] = set()
            differ = 0
            for round_ in range(args.rounds):
                adds = workload(args, rng)
                values.update(a.value_hash for a in adds)
                names = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
                answers = {}
                for name in names:
                    taken, answers[name] = run_side(client, sides[name], name[0].lower(), adds)
                    spent[name].append(taken)
                first, second = answers.values()
                differ += sum(x != y for x, y in zip(first, second, strict=True))
            for name, taken in spent.items():
                rounded = ", ".join(f"{v:.1f}" for v in taken)
                count, size = memory(client, name[0].lower())
                print(
                    f"{name}: Redis CPU µs/call {statistics.median(taken):.1f} [{rounded}]; "
                    f"{count} keys, {size} B, {size / len(values):.0f} B per value seen"
                )
            a, b = spent.values()
            print(f"{len(values)} values; B/A per round: median {ratios(a, b):.3f}")
            print(f"replies that differ between the sides: {differ}")
        finally:
            proc.stop()
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
