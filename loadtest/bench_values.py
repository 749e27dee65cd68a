"""Redis CPU and memory of the linker's ``value.lua``: this checkout's (records of values seen
by one account in sharded hashes, observations_redis.VALUE_SHARDS) against another commit's
(default ``1ea18ee~1``, the last with a key per value), side by side on a private redis-server.

The workload is the evidence a day of sightings brings: ``--accounts`` accounts, each sighting
one value: most are the account's own (seen by nobody else: a home prefix, its own templates),
some shared by a group of three (a squad's prefix) and a few shared by 70 accounts, more than
the shipped ``hot_value_limit`` (50: a NAT, they turn hot). Each round runs ``--calls``
sightings on each side (the order alternates), pipelined 50 at a time, on the same simulated
clock. Reported per side: the server's CPU (``INFO cpu``) per call, per round and its median,
B's median ratio to A, and at the end ``MEMORY USAGE`` of each side's keys, per value seen;
and how many replies differ between the sides (exit status 1 if any: same answers).
Side A's script must take the key per value (``{xv:<signal>:<hash>}``) and ARGV account, now,
limit, ttl, sighting (the layout before commit 1ea18ee); side B's gets this checkout's
arguments.

``python -m loadtest.bench_values [--base 1ea18ee~1] [--rounds 8] [--calls 2000] [--accounts 1000]``
"""

from __future__ import annotations

import argparse
import hashlib
import random
from typing import Any

from gateway.clusters.observations import ValueAdd
from gateway.clusters.observations_redis import value_args
from gateway.redis.keys import KeyBuilder
from loadtest import lua_ab

LUA = "gateway/clusters/lua/value.lua"
LIMIT, TTL = 50, 7 * 86400.0  # the shipped hot_value_limit and observation_ttl
CPU = "Redis CPU µs/call"
BEFORE = "1ea18ee~1"  # the last commit whose value.lua keeps a key per value (side A)


def script_text(ref: str | None) -> str:
    return lua_ab.source(LUA, ref)


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


def run_side(client: Any, sha: str, side: str, adds: list[ValueAdd]) -> lua_ab.Sample:
    """One round on one side: Redis CPU µs per call, and the replies."""
    keys = KeyBuilder(side)

    def send(pipe: Any, add: ValueAdd) -> None:
        argv = old_args(side, add) if side == "a" else value_args(keys, add)
        pipe.execute_command("EVALSHA", sha, 1, *argv)

    before = lua_ab.cpu(client)
    replies = lua_ab.pipelined(client, adds, send, True)
    return lua_ab.Sample({CPU: float((lua_ab.cpu(client) - before) * 1e6 / len(adds))}, replies)


def memory(client: Any, side: str) -> tuple[int, int]:
    """Keys and MEMORY USAGE bytes of one side."""
    found = [0, 0]
    for key in client.scan_iter(match=f"{side}:*", count=1000):
        found[0] += 1
        found[1] += int(client.memory_usage(key, samples=0) or 0)
    return found[0], found[1]


def main(argv: list[str] | None = None) -> int:
    parser = lua_ab.ab_parser("python -m loadtest.bench_values", rounds=8, base=BEFORE)
    parser.add_argument("--calls", type=int, default=2000, help="sightings per side and round")
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args(argv)
    args.start = 1_800_000_000

    rng = random.Random(5)
    rounds: dict[int, list[ValueAdd]] = {}  # each round's sightings, the same on both sides
    values: set[str] = set()

    def run(client: Any, sha: str, name: str, round_: int) -> lua_ab.Sample:
        if round_ not in rounds:
            rounds.clear()
            rounds[round_] = workload(args, rng)
            values.update(a.value_hash for a in rounds[round_])
        return run_side(client, sha, name[0].lower(), rounds[round_])

    with lua_ab.private_redis("dg-values-") as client:
        shas = lua_ab.load_sides(args.base, lambda ref: client.script_load(script_text(ref)))
        a, b = lua_ab.measure(
            list(shas), args.rounds, lambda name, r: run(client, shas[name], name, r)
        )
        for side in (a, b):
            count, size = memory(client, side.name[0].lower())
            print(
                f"{side.line(CPU)}; "
                f"{count} keys, {size} B, {size / len(values):.0f} B per value seen"
            )
    print(lua_ab.ratio_line(a, b, {CPU: ""}, prefix=f"{len(values)} values; "))
    differ = lua_ab.replies_differ(a, b)
    print(f"replies that differ between the sides: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
