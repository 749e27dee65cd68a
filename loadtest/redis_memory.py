"""Redis memory per active account-day with the shipped policy: budgets, clusters, detection
state and the last-seen record together.

One simulated day of the detection kit's personas and harvest strategies
(``loadtest.detection.scenarios``: benign personas, single-account harvesters, hydras,
paraphrasing squads, the red team's scenarios) goes through a real in-process gateway
(``loadtest.detection.harness``: every stage, every store; on Redis the sightings applied by
``gateway detect``'s worker loop in the same process) with the repository's ``policies/`` on
a private redis-server (or ``--url``). Then every key of the run is read
with ``MEMORY USAGE`` and grouped by what it holds, and ``used_memory`` is compared with the
server's before the run. An active account is one with a last-seen record (it sent a
request that day). Keys are written on a simulated clock in a few real minutes, so none has
expired: the figure is the most a day leaves (buckets and leases that expire when idle are
counted as if they were all alive at once).

``python -m loadtest.redis_memory [--size quick|full] [--url redis://...] [--max-seconds S]
[--json PATH] [--baseline PATH]`` (``--baseline``: an earlier ``--json`` report, printed
side by side per group and key shape)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from gateway.clock import FakeClock
from gateway.observability.logging import configure_logging
from gateway.settings import Settings
from loadtest.bench_procs import REPO, start_redis
from loadtest.detection.context import Context
from loadtest.detection.evaluate import START
from loadtest.detection.harness import Harness
from loadtest.detection.pools import load_pools
from loadtest.detection.runner import run
from loadtest.detection.scenarios import FULL, QUICK, Plan, build

SHIPPED = REPO / "policies"
MILLION = 1_000_000
SIZES = {  # a day of each population (the kit's quick and full runs)
    "tiny": dataclasses.replace(QUICK, name="tiny", days=0.05, solve_budget=2),
    "quick": dataclasses.replace(QUICK, name="quick-day", days=1.0),
    "full": dataclasses.replace(FULL, name="full-day", days=1.0, solve_budget=50),
}
GROUPS = (  # (group, pattern of the key after the prefix), first match wins
    ("account budgets", r"\{c:[^}]*\}:a:"),
    ("cluster budgets", r"\{c:[^}]*\}:c:"),
    ("levels and clearances", r"\{c:[^}]*\}:(lvl|clr):"),
    ("global budgets", r"\{g:"),
    ("cluster graph", r"\{x:clusters\}:g"),
    ("linker observations", r"\{xp:"),
    ("linker values", r"\{xv:"),
    ("co-activity meetings", r"\{det:[^}]*\}:co:(met|partners|mates)"),
    ("co-activity episodes", r"\{det:[^}]*\}:co:"),
    ("co-activity buckets", r"\{detco:"),
    ("detection state", r"\{det:"),
    ("template fan-out", r"\{dettpl:"),
    ("last seen", r"\{seen:"),
    ("proof-of-work guards", r"\{pow:"),
    ("sighting stream", r"\{sig:"),
)
STREAM = "sighting stream"  # capped (shards x sighting_maxlen entries): apart from the rest
NOT_PER_ACCOUNT = frozenset(
    {
        "global budgets",
        "cluster graph",
        "linker observations",
        "linker values",
        "template fan-out",
        "co-activity buckets",
    }
)
"""Groups keyed by something else than one account: evidence values, pairs of accounts that
shared one, clusters, templates, time buckets. They grow with the linked accounts and the
evidence seen (the linker's pairs within a value at most quadratically, up to
``hot_value_limit`` accounts per value); the graph lives in ONE hash slot
(``{x:clusters}``: its merges are atomic), the pairs in ``PAIR_SHARDS`` slots
(``{xp:<shard>}``), the values in ``VALUE_SHARDS`` (``{xv:<shard>}``: a hash of the values
seen by one account, a zset per value seen by more). The
co-activity buckets live three ``synchrony_delta`` widths (15 min): the run counts the whole
day's, a server holds about three at a time."""
SHAPES_SHOWN = 24
SHORT_LIVED_MS = 3600 * 1000
"""Keys that expire within an hour of their last write (applied sighting ids, co-activity
buckets, short budget windows, leases): the run counts them all, as if every account of the
day had been active in the last hour; a server holds them only for the recently active."""


def shape_of(key: str, prefix: str) -> str:
    """The key with its ids replaced by ``*`` and ``N``: what kind of key it is."""
    rest = key.removeprefix(prefix + ":")
    rest = re.sub(r"\{(\w+):[^}]*\}", r"{\1:*}", rest)
    rest = re.sub(r":a:[^:]+", ":a:*", rest)
    rest = re.sub(r"(:[pem]:)[^:|]+\|[^:]+$", r"\1<pair>", rest)
    rest = re.sub(r"[0-9a-f]{8,}", "H", rest)
    return re.sub(r"\d+", "N", rest)


def group_of(key: str, prefix: str) -> str:
    rest = key.removeprefix(prefix + ":")
    for name, pattern in GROUPS:
        if re.match(pattern, rest):
            return name
    return "other"


def read_keys(url: str, prefix: str) -> tuple[dict[str, Counter[str]], int]:
    """Per group and per key shape: key count and MEMORY USAGE bytes; and the server's
    used_memory."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        counts: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        shape_keys: Counter[str] = Counter()
        shape_sizes: Counter[str] = Counter()
        shape_ttls: dict[str, list[int]] = {}
        for raw in client.scan_iter(match=f"{prefix}:*", count=1000):
            key = raw.decode()
            group, shape = group_of(key, prefix), shape_of(key, prefix)
            size = int(client.memory_usage(raw, samples=0) or 0)
            ttl = int(client.pttl(raw))  # -1: no TTL, -2: gone
            counts[group] += 1
            sizes[group] += size
            if 0 <= ttl < SHORT_LIVED_MS:
                sizes["short-lived"] += size
            if group == STREAM:
                counts["stream entries"] += int(client.xlen(raw))
            else:
                shape_keys[shape] += 1
                shape_sizes[shape] += size
                shape_ttls.setdefault(shape, []).append(ttl)
        used = int(client.info("memory")["used_memory"])
    finally:
        client.close()
    groups = {"keys": counts, "bytes": sizes, "shape_keys": shape_keys, "shapes": shape_sizes}
    groups["ttl_minutes"] = Counter({shape: ttl_minutes(t) for shape, t in shape_ttls.items()})
    return groups, used


def ttl_minutes(ttls: list[int]) -> int:
    """The median TTL left on a shape's keys (PTTL, ms) at the end of the run, in minutes;
    -1 when most have none (they stay until deleted: the graph, pruned by evidence age)."""
    left = sorted(ttls)[len(ttls) // 2] if ttls else -1
    return -1 if left < 0 else round(left / 60_000)


def used_memory(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


async def day(
    url: str, plan: Plan, seed: int, max_seconds: float, prefix: str | None = None
) -> dict[str, Any]:
    """Run one simulated day of ``plan`` and read the memory it left (keys under ``prefix``;
    None: a random one, for a shared server)."""
    pools = load_pools("reporting")
    accounts = build(plan, seed)
    clock = FakeClock(START)
    ctx = Context(pools=pools, start=START, days=plan.days, cap=plan.cap, scale=plan.scale)
    before = used_memory(url)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dg-memory-") as tmp:
        harness = Harness(SHIPPED, Path(tmp), url, clock, plan.solve_budget, prefix)
        await harness.start(acc for acc, _ in accounts)
        try:
            requests: int | None = None  # None: cut short (the simulated hours say where)
            try:
                _, stats = await asyncio.wait_for(run(harness, clock, ctx, accounts), max_seconds)
                requests = stats.requests
            except TimeoutError:
                pass
            await harness.settle()
            groups, after = read_keys(url, harness.prefix)
        finally:
            await harness.close()
    return summarise(
        groups,
        after - before,
        plan=plan.name,
        prefix=harness.prefix,
        accounts=len(accounts),
        requests=requests,
        simulated_hours=round((clock.now() - START) / 3600, 2),
        wall_seconds=round(time.perf_counter() - started, 1),
    )


def ttl_in_hours(minutes: int) -> float:
    return -1.0 if minutes < 0 else round(minutes / 60, 1)


def summarise(groups: dict[str, Counter[str]], used_delta: int, **run: Any) -> dict[str, Any]:
    """Bytes per active account-day, per group, and the growth to a million accounts."""
    active = groups["keys"]["last seen"]
    if not active:
        raise RuntimeError("no account has a last-seen record: nothing was served")
    stream_bytes = groups["bytes"][STREAM]
    entries = groups["keys"]["stream entries"]
    sizes = Counter({k: v for k, v in groups["bytes"].items() if k not in (STREAM, "short-lived")})
    per_account = sum(v for k, v in sizes.items() if k not in NOT_PER_ACCOUNT)
    shared = sum(v for k, v in sizes.items() if k in NOT_PER_ACCOUNT)
    defaults = Settings()
    per_entry = stream_bytes / entries if entries else 0.0
    total = per_account + shared
    return {
        **run,
        "active_accounts": active,
        "bytes_per_active_account_day": round(total / active, 1),
        "bytes_per_active_account_day_used_memory": round(used_delta / active, 1),
        "per_account_state_bytes": round(per_account / active, 1),
        "short_lived_bytes": round(groups["bytes"]["short-lived"] / active, 1),
        "long_lived_bytes": round((total - groups["bytes"]["short-lived"]) / active, 1),
        "not_per_account_state_bytes": shared,
        "groups": {
            name: {"keys": groups["keys"][name], "bytes_per_account": round(size / active, 1)}
            for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])
        },
        "shapes": {
            shape: {
                "keys": groups["shape_keys"][shape],
                "bytes_per_key": round(size / groups["shape_keys"][shape]),
                "bytes_per_account": round(size / active, 1),
                "ttl_hours": ttl_in_hours(groups["ttl_minutes"].get(shape, -1)),
            }
            for shape, size in groups["shapes"].most_common(SHAPES_SHOWN)
        },
        "million_accounts_gb": round(total / active * MILLION / 1e9, 2),
        "million_accounts_per_account_gb": round(per_account / active * MILLION / 1e9, 2),
        "stream": {
            "entries": entries,
            "bytes_per_entry": round(per_entry, 1),
            "bytes_at_cap": round(per_entry * defaults.sighting_shards * defaults.sighting_maxlen),
        },
    }


def render(report: dict[str, Any], goal: float = 4096) -> str:
    per = report["bytes_per_active_account_day"]
    count = report["requests"]
    requests = "cut short by --max-seconds" if count is None else f"{count} requests"
    lines = [
        f"Redis memory, one simulated day ({report['plan']}: {report['accounts']} accounts, "
        f"key prefix {report.get('prefix', '?')!r}, "
        f"{report['active_accounts']} active, {requests}, "
        f"{report['simulated_hours']} simulated hours in {report['wall_seconds']} s)",
        f"{'group':<24}{'keys':>8}{'bytes/account':>15}",
    ]
    for name, g in report["groups"].items():
        shared = " (not per account)" if name in NOT_PER_ACCOUNT else ""
        lines.append(f"{name:<24}{g['keys']:>8}{g['bytes_per_account']:>15.1f}{shared}")
    lines.append(
        f"{'largest key shapes':<56}{'keys':>8}{'bytes/key':>11}{'bytes/account':>15}"
        f"{'TTL left h':>12}"
    )
    for shape, g in report["shapes"].items():
        ttl = g.get("ttl_hours", -1.0)
        left = "none" if ttl < 0 else f"{ttl:.1f}"
        lines.append(
            f"{shape[:55]:<56}{g['keys']:>8}{g['bytes_per_key']:>11}{g['bytes_per_account']:>15.1f}"
            f"{left:>12}"
        )
    lines.append("(TTL left h: the median TTL left at the end of the run; none: no TTL)")
    stream = report["stream"]
    if 0 < stream["entries"] < 1000:  # too few: the streams' own overhead would dominate
        total = stream["entries"] * stream["bytes_per_entry"]
        held = f"{stream['entries']} entries left, {total / 1e3:.0f} KB in all"
    elif stream["entries"]:
        held = (
            f"{stream['entries']} entries left, {stream['bytes_per_entry']:.0f} B each; at its "
            f"cap (sighting_shards x sighting_maxlen entries) {stream['bytes_at_cap'] / 1e6:.0f} MB"
        )
    else:
        held = "empty (the workers dropped what they acknowledged)"
    lines += [
        f"sighting stream (apart: the workers' backlog, capped, not per account): {held}",
        f"per active account-day: {per:.0f} B by MEMORY USAGE "
        f"({report['per_account_state_bytes']:.0f} B in per-account keys, "
        f"{report['not_per_account_state_bytes'] / report['active_accounts']:.0f} B in keys of "
        "values, pairs, clusters and templates), "
        f"{report['bytes_per_active_account_day_used_memory']:.0f} B by used_memory "
        "(the stream and the server's own overheads included)",
        f"of which {report['short_lived_bytes']:.0f} B in keys that expire within an hour of "
        "their last write (held only for the accounts active in the last hour; those of a few "
        "minutes expire in real time during the run, so a slower run counts fewer): "
        f"{report['long_lived_bytes']:.0f} B without them",
        f"target <= {goal:.0f} B per active account-day: {'met' if per <= goal else 'NOT met'}",
        f"a million active accounts a day: about {report['million_accounts_gb']:.1f} GB at "
        f"this mix, {report['million_accounts_per_account_gb']:.1f} GB of it in per-account "
        "keys, which grow linearly (each bounded: sparse sets turn into fixed 2 KB bitmaps, "
        "an account keeps MAX_PARTNERS co-activity partners) and expire when idle; the "
        "linker's keys grow with the accounts that share evidence (pairs within a value, up "
        "to hot_value_limit accounts per value); its values (VALUE_SHARDS shards) and its "
        "pairs (PAIR_SHARDS) spread over the slots, its graph lives in ONE hash slot "
        "({x:clusters}, atomic merges): on Redis Cluster one node holds the graph",
    ]
    return "\n".join(lines)


def compare(report: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Bytes per active account, per group and per key shape: ``baseline`` (an earlier
    ``--json`` report) against this run."""
    lines = [
        f"{'group or key shape':<56}{'before':>10}{'now':>10}   (bytes/account; -: no such "
        "group, or the shape is not among that run's largest)"
    ]
    for part in ("groups", "shapes"):
        names = dict.fromkeys([*report[part], *baseline[part]])
        for name in names:
            was, now = baseline[part].get(name), report[part].get(name)
            cells = [f"{g['bytes_per_account']:.0f}" if g else "-" for g in (was, now)]
            lines.append(f"{name[:55]:<56}{cells[0]:>10}{cells[1]:>10}")
    before, now = (r["bytes_per_active_account_day"] for r in (baseline, report))
    lines.append(f"{'per active account-day':<56}{before:>10.0f}{now:>10.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--url", help="a Redis db to use (default: a private redis-server)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=240.0, help="bound on the run")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.add_argument("--baseline", metavar="PATH", help="an earlier --json report to compare")
    args = parser.parse_args(argv)
    configure_logging("json", "error")
    server = None
    url = args.url
    with tempfile.TemporaryDirectory(prefix="dg-memory-redis-") as tmp:
        if url is None:
            server, url = start_redis(Path(tmp))
        try:
            # a private server holds this run's keys only: the shipped prefix (key names are
            # part of every key's bytes); a shared one (--url) a random prefix apart
            prefix = Settings().store_prefix if server is not None else None
            report = asyncio.run(day(url, SIZES[args.size], args.seed, args.max_seconds, prefix))
        finally:
            if server is not None:
                server.stop()
    print(render(report))
    if args.baseline:
        print(compare(report, json.loads(Path(args.baseline).read_text())))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
