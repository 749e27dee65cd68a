"""Redis CPU of ``observe.lua``: this checkout's against another commit's (default ``main``),
side by side on a private redis-server, and whether both leave the same results.

A seeded synthetic stream of ``--calls`` observe calls (an entity's batch of 1-5 sightings:
150 light accounts and two heavy entities taking ``--heavy`` of the calls, replayed and
unnamed sightings, follow-ups) is built by this checkout's caller
(``RedisStateStore._observe_call``): it compares scripts that share one ARGV layout. Each
round runs the whole stream on each side (the order alternates; the server flushed first),
pipelined 50 calls at a time. Reported per side: ``EVALSHA``'s execution µs per call
(``INFO commandstats``: the script and its commands) and the server's CPU µs per call
(``INFO cpu``: also reading and replying), per round and their medians, B's median ratio to
A; and, from the first round, whether the replies and the final keys (type, encoding,
value, hash field order, memory usage, a TTL set) are identical. ``--intset N`` sets the
server's ``set-max-intset-entries`` (bit sets turned into bitmaps early).

``python -m loadtest.bench_observe [--base main] [--rounds 8] [--calls 2000] [--heavy 0.15]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import EntityBatch, Seen
from gateway.detection.types import Observation
from gateway.redis.keys import KeyBuilder
from loadtest.bench_lua import cpu, ratios
from loadtest.bench_procs import REPO, start_redis

SCRIPT = "gateway/detection/lua/observe.lua"
HEAVY = ("heavy", "cl:big")


def observe_text(ref: str | None) -> str:
    """observe.lua from this checkout (``ref`` None) or from commit ``ref``."""
    if ref is None:
        return (REPO / SCRIPT).read_text(encoding="utf-8")
    command = ["git", "-C", str(REPO), "show", f"{ref}:{SCRIPT}"]
    shown = subprocess.run(command, check=True, capture_output=True, text=True)
    return shown.stdout


def observation(rng: random.Random, span: int, cluster: bool) -> Observation:
    follow_up = rng.random() < 0.3
    return Observation(
        cell=rng.randrange(span), skeleton=rng.randrange(span // 2 + 1),
        exact=rng.randrange(span * 2), elicitation=rng.choice([0.0, 0.0, rng.random()]),
        params=rng.random() < 0.2, single_turn=rng.random() < 0.6,
        max_output=rng.random() < 0.3, topic=rng.randrange(128),
        member=rng.choice(["", "m1", "m2", "m3"]) if cluster else "",
        fanout=rng.random() < 0.1, limited=rng.random() < 0.05, fresh=rng.random() < 0.1,
        follow_up=follow_up, system=rng.random() < 0.5,
        system_elicitation=rng.choice([0.0, rng.random()]), trace=rng.random() < 0.05,
        worked=rng.random() < 0.05, value_print=rng.randrange(8), reasoning=rng.random() < 0.2,
        resample=rng.random() < 0.05, system_print=rng.randrange(16),
        product=rng.choice([0.0, 0.0, rng.random()]),
        thread=rng.randrange(span * 2) if follow_up else 0, thread_topic=rng.randrange(128),
    )  # fmt: skip


def stream(calls: int, heavy: float, seed: int = 7) -> list[tuple[Any, ...]]:
    """The calls' ``numkeys, *keys, *argv`` (EVALSHA's arguments after the SHA)."""
    rng = random.Random(seed)
    store = RedisStateStore(None, KeyBuilder("bo"))  # type: ignore[arg-type]  # builds calls only
    light = [f"acct{i}" for i in range(150)]
    now, named, out = 1_700_000_000.0, 0, []
    for _ in range(calls):
        entity = rng.choice(HEAVY) if rng.random() < heavy else rng.choice(light)
        seen = []
        for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
            now += rng.random() * 2
            obs = observation(rng, 4000 if entity in HEAVY else 40, entity.startswith("cl:"))
            pick = rng.random()
            if pick < 0.4:
                sighting = ""
            elif pick < 0.5 and named:
                sighting = f"s{rng.randrange(named)}"  # a replay: changes nothing
            else:
                named += 1
                sighting = f"s{named}"
            seen.append(Seen(obs, now, sighting))
        batch = EntityBatch(entity, tuple(seen), 3600.0, 1800.0)
        out.append(store._observe_call(batch, now)[2:])
    return out


def keys_now(client: Any) -> dict[bytes, tuple[Any, ...]]:
    """Every key: type, value, encoding, memory usage, whether it has a TTL."""
    found: dict[bytes, tuple[Any, ...]] = {}
    for key in sorted(client.keys("*")):
        kind = client.type(key).decode()
        value: Any
        if kind == "hash":
            value = list(client.hgetall(key).items())  # field order included
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            value = client.get(key)
        usage = client.memory_usage(key)
        found[key] = (kind, value, client.object("encoding", key), usage, client.pttl(key) > 0)
    return found


def run_side(client: Any, sha: str, calls: list[tuple[Any, ...]]) -> tuple[float, float, list[Any]]:
    """The stream on a flushed server: EVALSHA µs per call, server CPU µs per call, replies."""
    client.flushall()
    client.config_resetstat()
    before, replies = cpu(client), []
    for start in range(0, len(calls), 50):
        pipe = client.pipeline(transaction=False)
        for call in calls[start : start + 50]:
            pipe.execute_command("EVALSHA", sha, *call)
        replies += pipe.execute(raise_on_error=False)
    spent = (cpu(client) - before) * 1e6 / len(calls)
    usec = client.info("commandstats")["cmdstat_evalsha"]["usec"]
    return usec / len(calls), spent, replies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_observe")
    parser.add_argument("--base", default="main", help="commit of side A (default main)")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds")
    parser.add_argument("--calls", type=int, default=2000, help="observe calls per side and round")
    parser.add_argument("--heavy", type=float, default=0.15, help="share of calls of 2 entities")
    parser.add_argument("--intset", type=int, default=512, help="set-max-intset-entries")
    args = parser.parse_args(argv)
    import redis

    calls = stream(args.calls, args.heavy)
    with tempfile.TemporaryDirectory(prefix="dg-observe-") as workdir:
        proc, url = start_redis(Path(workdir))
        try:
            client = redis.Redis.from_url(url)
            client.config_set("set-max-intset-entries", args.intset)
            sides = {
                f"A ({args.base})": client.script_load(observe_text(args.base)),
                "B (this checkout)": client.script_load(observe_text(None)),
            }
            script: dict[str, list[float]] = {name: [] for name in sides}
            server: dict[str, list[float]] = {name: [] for name in sides}
            results: dict[str, tuple[list[Any], dict[bytes, tuple[Any, ...]]]] = {}
            for round_ in range(args.rounds):
                names = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
                for name in names:
                    usec, spent, replies = run_side(client, sides[name], calls)
                    script[name].append(usec)
                    server[name].append(spent)
                    if name not in results:
                        results[name] = (replies, keys_now(client))
            for name in sides:
                for what, values in (("EVALSHA µs/call", script), ("CPU µs/call", server)):
                    rounded = ", ".join(f"{v:.1f}" for v in values[name])
                    print(f"{name}: {what} {statistics.median(values[name]):.1f} [{rounded}]")
            (a_script, b_script), (a_cpu, b_cpu) = script.values(), server.values()
            print(f"B/A per round: EVALSHA median {ratios(a_script, b_script):.3f},", end=" ")
            print(f"CPU median {ratios(a_cpu, b_cpu):.3f}")
            (a_replies, a_keys), (b_replies, b_keys) = results.values()
            errors = sum(isinstance(r, Exception) for r in a_replies + b_replies)
            print(f"replies identical: {a_replies == b_replies} (errors: {errors});", end=" ")
            print(f"keys identical: {a_keys == b_keys} ({len(a_keys)} keys)")
            same = a_replies == b_replies and a_keys == b_keys and errors == 0
        finally:
            proc.stop()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
