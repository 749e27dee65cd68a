"""Redis CPU of the budget check's scripts: this checkout's ``acquire.lua`` and ``settle.lua``
against another commit's (default ``main``), side by side on a private redis-server.

Each round runs a batch of requests on each side (the order alternates): ``acquire.lua`` for
a budgets-only request of the shipped enterprise tier (request, token and model token
buckets, a concurrency budget, a clearance key; ``--accounts`` accounts), pipelined 50 at a
time, then ``settle.lua`` for them in batches of ``--settle-batch`` (a token refund or charge,
the lease released). Reported per side: the server's CPU time (``INFO cpu``: the scripts,
their commands, reading and replying) per request, per round and its median, and B's median
ratio to A. Both sides get this checkout's ARGV (:mod:`gateway.limiter.codec`): it compares
scripts that share one layout. Unlike :mod:`loadtest.redis_profile` (SLOWLOG, which also
times the logging of every command a script calls) nothing else runs meanwhile.

``python -m loadtest.bench_lua [--base main] [--rounds 16] [--requests 500]``
"""

from __future__ import annotations

import argparse
import random
from typing import Any

from gateway.limiter.codec import SpecCodec, settle_args, settlement_rows
from gateway.limiter.redis_store import PRELUDE
from gateway.model import BudgetSpec, Charge, Settlement
from gateway.redis.keys import KeyBuilder
from loadtest import lua_ab

LUA = "gateway/limiter/lua"
CPU = "Redis CPU µs/req"


def script_text(name: str, ref: str | None) -> str:
    """A limiter script as ScriptRegistry sends it (its preludes first), from this checkout
    (``ref`` None) or from commit ``ref``."""

    files = [*(f"{LUA}/{p}.lua" for p in PRELUDE), f"{LUA}/{name}.lua"]
    return "\n".join(lua_ab.source(file, ref) for file in files)


def budgets(keys: KeyBuilder, account: str) -> tuple[BudgetSpec, ...]:
    """The enterprise tier's budgets-only charges (policies/: limits as shipped)."""
    cluster = f"c{account}"

    def spec(name: str, algorithm: str, limit: int, window: float, rate: float) -> BudgetSpec:
        unit = "concurrency" if algorithm == "concurrency" else "requests"
        return BudgetSpec(
            name, "account", unit, algorithm, keys.account_budget(cluster, account, name),  # type: ignore[arg-type]
            limit=limit, window=window, rate=rate, throttleable=algorithm == "bucket",
        )  # fmt: skip

    return (
        spec("requests", "bucket", 500, 60.0, 3000.0),
        spec("tokens", "bucket", 2_000_000, 3600.0, 20_000_000.0),
        spec("concurrency", "concurrency", 128, 60.0, 0.0),
        spec("model:tokens", "bucket", 500_000, 3600.0, 500_000.0),
    )


def run_side(
    client: Any, shas: tuple[str, str], prefix: str, args: argparse.Namespace
) -> lua_ab.Sample:
    """One batch on one side: Redis CPU µs per request."""
    keys, codec = KeyBuilder(prefix), SpecCodec()
    before = lua_ab.cpu(client)
    for start in range(0, args.requests, 50):
        pipe, done = client.pipeline(transaction=False), []
        for i in range(start, min(args.requests, start + 50)):
            account = f"a{random.randrange(args.accounts)}"
            specs, rid = budgets(keys, account), f"{random.getrandbits(128):032x}"
            charges = [Charge(s, cost=150 + i % 100 if s.name == "tokens" else 1) for s in specs]
            clearance = [keys.account_clearance(f"c{account}", account)]
            numkeys, argv = codec.acquire_args(charges, [], clearance, b"", rid, 1.0, True)
            pipe.execute_command("EVALSHA", shas[0], numkeys, *argv)
            done.append(Settlement(rid, ((specs[1], random.randint(-200, 20)),), (specs[2],)))
        pipe.execute()
        pipe = client.pipeline(transaction=False)
        for at in range(0, len(done), args.settle_batch):
            groups = [
                (s.request_id, settlement_rows(s), [r.key for r in s.releases])
                for s in done[at : at + args.settle_batch]
            ]
            numkeys, argv = settle_args(b"", groups)
            pipe.execute_command("EVALSHA", shas[1], numkeys, *argv)
        pipe.execute()
    return lua_ab.Sample({CPU: float((lua_ab.cpu(client) - before) * 1e6 / args.requests)})


def main(argv: list[str] | None = None) -> int:
    parser = lua_ab.ab_parser("python -m loadtest.bench_lua", rounds=16)
    parser.add_argument("--requests", type=int, default=500, help="requests per side and round")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--settle-batch", type=int, default=5, help="settlements per settle.lua")
    args = parser.parse_args(argv)

    with lua_ab.private_redis("dg-lua-") as client:

        def load(ref: str | None) -> tuple[str, str]:
            acquire, settle = (script_text(n, ref) for n in ("acquire", "settle"))
            return client.script_load(acquire), client.script_load(settle)

        sides = lua_ab.load_sides(args.base, load)
        a, b = lua_ab.measure(
            list(sides),
            args.rounds,
            lambda name, _round: run_side(client, sides[name], name[0].lower(), args),
        )
    lua_ab.report(a, b, {CPU: ""})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
