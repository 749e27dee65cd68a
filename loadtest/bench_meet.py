"""Redis CPU of the co-activity worker's ``meet.lua``: this checkout's against another
commit's (default ``main``), side by side on a private redis-server, and whether both leave
the same results.

A seeded synthetic stream of ``--calls`` calls, laid out as ``RedisCoActivity`` sends them:
one account's 1-3 meetings a call, each with 1-``--partners`` of ``--accounts`` accounts,
``--gap`` seconds apart on average, a one-hour horizon and the shipped bound on partners
(more accounts than the bound exercise the shrinking). Each round runs the whole stream on
each side (the order alternates; the server flushed first), pipelined 50 calls at a time.
Reported per side: the server's CPU µs per call (``INFO cpu``), per round and the median,
B's median ratio to A; and, from the first round, whether the replies and the final keys are
identical (exit status 1 if not).

``python -m loadtest.bench_meet [--base main] [--rounds 6] [--calls 2000] [--gap 2]``
"""

from __future__ import annotations

import random
from typing import Any

from gateway.detection.coactivity import MAX_PARTNERS
from gateway.redis.scripts import ScriptRegistry
from loadtest import lua_ab

FILES = ("gateway/detection/lua/times.lua", "gateway/detection/lua/meet.lua")
HORIZON = 3600.0


def meet_text(ref: str | None) -> str:
    """meet.lua after its prelude, as registered, from this checkout (``ref`` None) or from
    commit ``ref``."""
    if ref is None:
        return ScriptRegistry("gateway.detection", ("meet",), prelude=("times",))["meet"].text
    return "\n".join(lua_ab.source(name, ref) for name in FILES)


def stream(
    calls: int, accounts: int, partners: int, gap: float, seed: int = 5
) -> list[tuple[Any, ...]]:
    """The calls' ``numkeys, key, *argv`` (EVALSHA's arguments after the SHA)."""
    rng = random.Random(seed)
    names = [f"acct{i:03d}" for i in range(accounts)]
    now = 1_700_000_000.0
    out: list[tuple[Any, ...]] = []
    for _ in range(calls):
        account, argv = rng.choice(names), []
        for _ in range(rng.randint(1, 3)):
            now += rng.random() * 2 * gap
            met = rng.sample([n for n in names if n != account], rng.randint(1, partners))
            argv += [repr(now), repr(now - HORIZON), 3600, MAX_PARTNERS, len(met), *met]
        out.append((1, f"bm:{account}", *argv))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = lua_ab.ab_parser("python -m loadtest.bench_meet", rounds=6)
    parser.add_argument("--calls", type=int, default=2000, help="calls per side and round")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--partners", type=int, default=8, help="most partners a meeting")
    parser.add_argument("--gap", type=float, default=2.0, help="mean seconds between meetings")
    args = parser.parse_args(argv)

    calls = stream(args.calls, args.accounts, args.partners, args.gap)
    with lua_ab.private_redis("dg-meet-") as client:
        shas = lua_ab.load_sides(args.base, lambda ref: client.script_load(meet_text(ref)))
        a, b = lua_ab.measure_stream(
            client,
            shas,
            args.rounds,
            calls,
            lambda: {k: client.get(k) for k in sorted(client.keys("*"))},
        )
    lua_ab.report(a, b, {lua_ab.CPU: "CPU"})
    same = lua_ab.identity(a, b)
    print(same.line())
    return same.code


if __name__ == "__main__":
    raise SystemExit(main())
