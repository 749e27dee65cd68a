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

import random
from typing import Any

from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import EntityBatch, Seen
from gateway.detection.types import Observation
from gateway.redis.keys import KeyBuilder
from loadtest import lua_ab

SCRIPT = "gateway/detection/lua/observe.lua"
HEAVY = ("heavy", "cl:big")


def observe_text(ref: str | None) -> str:
    """observe.lua from this checkout (``ref`` None) or from commit ``ref``."""
    return lua_ab.source(SCRIPT, ref)


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


def main(argv: list[str] | None = None) -> int:
    parser = lua_ab.ab_parser("python -m loadtest.bench_observe", rounds=8)
    parser.add_argument("--calls", type=int, default=2000, help="observe calls per side and round")
    parser.add_argument("--heavy", type=float, default=0.15, help="share of calls of 2 entities")
    parser.add_argument("--intset", type=int, default=512, help="set-max-intset-entries")
    args = parser.parse_args(argv)

    calls = stream(args.calls, args.heavy)
    with lua_ab.private_redis("dg-observe-") as client:
        client.config_set("set-max-intset-entries", args.intset)
        shas = lua_ab.load_sides(args.base, lambda ref: client.script_load(observe_text(ref)))
        a, b = lua_ab.measure_stream(
            client, shas, args.rounds, calls, lambda: lua_ab.keys_now(client)
        )
    lua_ab.report(a, b, {lua_ab.EVALSHA: "EVALSHA", lua_ab.CPU: "CPU"})
    same = lua_ab.identity(a, b)
    print(same.line())
    return same.code


if __name__ == "__main__":
    raise SystemExit(main())
