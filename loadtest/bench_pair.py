"""Redis CPU of the linker's ``pair.lua``: this checkout's against another commit's (default
``main``), side by side on a private redis-server, and whether both leave the same results.

A seeded synthetic stream of ``--calls`` linker batches is built by this checkout's caller
(``RedisObservations.record_pairs_many``'s sharding and ``_note_args``): ``--accounts``
accounts over a few days, each batch 1-8 notes of one account with the accounts it shared a
soft signal value with (ip prefix, template, synchrony; 1-``--others`` of them), some
needing several co-occurrences, some sightings delivered again, and now and then a hot
flag. Each round runs the whole stream on each side (the order alternates; the server
flushed first), pipelined 50 calls at a time. Reported per side: ``EVALSHA``'s execution µs
per call (``INFO commandstats``: the script and its commands) and the server's CPU µs per
call (``INFO cpu``), per round and their medians, B's median ratio to A; and, from the first
round, the commands the script ran per call and whether the replies and the final keys
(type, value, hash field order, encoding, memory usage, a TTL set) are identical (exit
status 1 if not).

``python -m loadtest.bench_pair [--base main] [--rounds 8] [--calls 2000] [--others 12]``
"""

from __future__ import annotations

import random
from typing import Any

from gateway.clusters.observations import PairNote, PairRule
from gateway.clusters.observations_redis import PAIR_SHARDS, _note_args, pair_shard
from gateway.redis.keys import KeyBuilder
from loadtest import lua_ab

SCRIPT = "gateway/clusters/lua/pair.lua"
SIGNALS = ("ip_prefix", "template", "synchrony")
RULE = PairRule(min_signals=2, repeat_days=3, ttl=14 * 86400.0)
COMMANDS = "commands the script ran per call"


def pair_text(ref: str | None) -> str:
    """pair.lua from this checkout (``ref`` None) or from commit ``ref``."""
    return lua_ab.source(SCRIPT, ref)


def stream(calls: int, accounts: int, most: int, seed: int = 11) -> list[tuple[Any, ...]]:
    """The calls' ``numkeys, key, *argv`` (EVALSHA's arguments after the SHA), as the linker
    sends one batch: one call per shard, every note with pairs there, notes in order."""
    rng = random.Random(seed)
    keys = KeyBuilder("bp")
    shards = [keys.cluster_pairs(n) for n in range(PAIR_SHARDS)]
    names = [f"acct{i:03d}" for i in range(accounts)]
    now, named = 1_700_000_000.0, 0
    out: list[tuple[Any, ...]] = []
    while len(out) < calls:
        account, notes = rng.choice(names), []
        for _ in range(rng.randint(1, 8)):
            now += rng.random() * 30
            others = rng.sample([n for n in names if n != account], rng.randint(1, most))
            signal = rng.choice(SIGNALS)
            need = 1 if signal != "template" else rng.choice([1, 3])
            if rng.random() < 0.2 and named:
                sighting = f"s{rng.randrange(named)}"  # delivered again
            else:
                named += 1
                sighting = f"s{named}"
            notes.append(
                PairNote(
                    account, tuple(others), signal, f"v{rng.randrange(6)}",
                    int(now // 86400), need, RULE,
                    occurrence=f"o{rng.randrange(4)}" if need > 1 else "",
                    sighting=sighting, now=now,
                )
            )  # fmt: skip
        args: dict[int, list[Any]] = {}
        for n in notes:
            by_shard: dict[int, list[str]] = {}
            for other in n.others:
                by_shard.setdefault(pair_shard(n.account, other), []).append(other)
            for shard, part in by_shard.items():
                args.setdefault(shard, []).extend(_note_args(n, part))
        out += [(1, shards[s], *args[s]) for s in sorted(args)]
        if rng.random() < 0.01:  # a value turned hot: its flag copied into every shard
            hot = f"v{rng.randrange(6)}"
            out += [("HOT", f"{shard}:hot:{rng.choice(SIGNALS)}:{hot}") for shard in shards]
    return out[:calls]


def run_side(client: Any, sha: str, calls: list[tuple[Any, ...]]) -> lua_ab.Sample:
    """The stream on a flushed server: EVALSHA µs per call, server CPU µs per call, commands
    the script ran per call, replies."""

    def send(pipe: Any, call: tuple[Any, ...]) -> None:
        if call[0] == "HOT":
            pipe.set(call[1], "1", ex=86400)
        else:
            pipe.execute_command("EVALSHA", sha, *call)

    scripts = sum(call[0] != "HOT" for call in calls)
    sample, stats = lua_ab.run_stream(client, calls, send, scripts)
    outer = ("cmdstat_evalsha", "cmdstat_set", "cmdstat_info")  # pair.lua runs no SET
    inner = sum(int(v["calls"]) for k, v in stats.items() if k not in outer and "config" not in k)
    return lua_ab.Sample({**sample.metrics, COMMANDS: inner / scripts}, sample.replies)


def main(argv: list[str] | None = None) -> int:
    parser = lua_ab.ab_parser("python -m loadtest.bench_pair", rounds=8)
    parser.add_argument("--calls", type=int, default=2000, help="calls per side and round")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--others", type=int, default=12, help="most accounts a note pairs")
    args = parser.parse_args(argv)

    calls = stream(args.calls, args.accounts, args.others)
    with lua_ab.private_redis("dg-pair-") as client:
        shas = lua_ab.load_sides(args.base, lambda ref: client.script_load(pair_text(ref)))
        a, b = lua_ab.measure(
            list(shas),
            args.rounds,
            lambda name, _: run_side(client, shas[name], calls),
            lambda: lua_ab.keys_now(client),
        )
    lua_ab.report(
        a,
        b,
        {lua_ab.EVALSHA: "EVALSHA", lua_ab.CPU: "CPU"},
        lambda side: f"{side.name}: {COMMANDS} {side.metrics[COMMANDS][-1]:.2f}",
    )
    same = lua_ab.identity(a, b)
    matches = sum(len(part) > 0 for r in a.replies[0] if isinstance(r, list) for part in r)
    print(same.line(f"notes with matches: {matches}"))
    return same.code


if __name__ == "__main__":
    raise SystemExit(main())
