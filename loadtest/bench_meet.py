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

import argparse
import random
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from gateway.detection.coactivity import MAX_PARTNERS
from gateway.redis.scripts import ScriptRegistry
from loadtest.bench_lua import cpu, ratios
from loadtest.bench_procs import REPO, start_redis

FILES = ("gateway/detection/lua/times.lua", "gateway/detection/lua/meet.lua")
HORIZON = 3600.0


def meet_text(ref: str | None) -> str:
    """meet.lua after its prelude, as registered, from this checkout (``ref`` None) or from
    commit ``ref``."""
    if ref is None:
        return ScriptRegistry("gateway.detection", ("meet",), prelude=("times",))["meet"].text
    parts = []
    for name in FILES:
        command = ["git", "-C", str(REPO), "show", f"{ref}:{name}"]
        parts.append(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return "\n".join(parts)


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


def run_side(client: Any, sha: str, calls: list[tuple[Any, ...]]) -> tuple[float, list[Any]]:
    """The stream on a flushed server: server CPU µs per call, replies."""
    client.flushall()
    before, replies = cpu(client), []
    for start in range(0, len(calls), 50):
        pipe = client.pipeline(transaction=False)
        for call in calls[start : start + 50]:
            pipe.execute_command("EVALSHA", sha, *call)
        replies += pipe.execute(raise_on_error=False)
    return (cpu(client) - before) * 1e6 / len(calls), replies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_meet")
    parser.add_argument("--base", default="main", help="commit of side A (default main)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds")
    parser.add_argument("--calls", type=int, default=2000, help="calls per side and round")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--partners", type=int, default=8, help="most partners a meeting")
    parser.add_argument("--gap", type=float, default=2.0, help="mean seconds between meetings")
    args = parser.parse_args(argv)
    import redis

    calls = stream(args.calls, args.accounts, args.partners, args.gap)
    with tempfile.TemporaryDirectory(prefix="dg-meet-") as workdir:
        proc, url = start_redis(Path(workdir))
        try:
            client = redis.Redis.from_url(url)
            sides = {
                f"A ({args.base})": client.script_load(meet_text(args.base)),
                "B (this checkout)": client.script_load(meet_text(None)),
            }
            spent: dict[str, list[float]] = {name: [] for name in sides}
            results: dict[str, tuple[list[Any], dict[Any, Any]]] = {}
            for round_ in range(args.rounds):
                for name in list(sides) if round_ % 2 == 0 else list(sides)[::-1]:
                    usec, replies = run_side(client, sides[name], calls)
                    spent[name].append(usec)
                    if name not in results:
                        found = {k: client.get(k) for k in sorted(client.keys("*"))}
                        results[name] = (replies, found)
            for name in sides:
                rounded = ", ".join(f"{v:.1f}" for v in spent[name])
                print(f"{name}: CPU µs/call {statistics.median(spent[name]):.1f} [{rounded}]")
            a_cpu, b_cpu = spent.values()
            print(f"B/A per round: CPU median {ratios(a_cpu, b_cpu):.3f}")
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
