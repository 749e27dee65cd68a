"""Live drill: the detection kit's scenarios through a real ``gateway serve`` (red team round 3).

``python -m loadtest.redteam3_drill --scenario red3_reasoning_model --scenario red3_mooc_student``

Starts ``gateway mock-upstream`` and ``gateway serve`` on free loopback ports (the shipped
``policies/``, the memory store, loopback trusted as a proxy so that each account keeps its own
address through ``X-Forwarded-For``), writes one API key per account, and drives the kit's
accounts of each scenario (``--accounts`` of them, from the quick or full plan) with an aiohttp
client: each account's behaviour as the kit writes it, its simulated gaps divided by
``--speedup`` and capped at ``--max-gap`` seconds, at most ``--requests`` per account. Then it
reads every account's view from the admin API and prints, per scenario, what the accounts got
and at which level detection holds them. Compressed gaps are more machine-like than the
simulated ones, so a drill is harsher on every scenario than the kit's simulated weeks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from loadtest.detection.context import Context
from loadtest.detection.evaluate import START
from loadtest.detection.harness import write_keys
from loadtest.detection.pools import load_pools
from loadtest.detection.scenarios import FULL, QUICK, BehaviourFn, build
from loadtest.detection.traffic import Account, Outcome, Request

BIN = Path(sys.executable).parent / "gateway"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(session: ClientSession, url: str, seconds: float = 20.0) -> None:
    for _ in range(int(seconds * 10)):
        try:
            async with session.get(url) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"not ready: {url}")


async def drive(
    session: ClientSession,
    base: str,
    key: str,
    acc: Account,
    fn: BehaviourFn,
    ctx: Context,
    args: argparse.Namespace,
) -> Counter[str]:
    """Run one account's behaviour against the gateway in compressed real time."""
    seen: Counter[str] = Counter()
    behaviour = fn(acc, ctx)
    try:
        t, request = next(behaviour)
    except StopIteration:
        return seen
    prev = t
    while seen["sent"] < args.requests:
        gap = min(args.max_gap, max(0.0, t - prev) / args.speedup)
        await asyncio.sleep(max(args.min_gap, gap))
        prev = t
        out = await post(session, base, key, acc, request)
        seen["sent"] += 1
        seen[f"{out.status} {out.error_code}".strip()] += 1
        seen["degraded"] += out.degraded
        if out.status != 200 and not seen["first_refused"]:
            seen["first_refused"] = seen["sent"]
        try:
            t, request = behaviour.send(out)
        except StopIteration:
            break
    return seen


async def post(session: ClientSession, base: str, key: str, acc: Account, req: Request) -> Outcome:
    headers = {
        **req.headers,
        "Authorization": f"Bearer {key}",
        "X-Forwarded-For": acc.client_ip,
    }
    async with session.post(base + req.path, json=dict(req.body), headers=headers) as resp:
        payload: dict[str, Any] = await resp.json(content_type=None)
        error = payload.get("error") or {} if isinstance(payload, dict) else {}
        return Outcome(
            resp.status,
            error_type=str(error.get("type") or ""),
            error_code=str(error.get("code") or ""),
            degraded="x-gateway-degraded" in resp.headers,
            retry_after=float(resp.headers.get("retry-after", "0") or 0),
        )


async def view(session: ClientSession, admin: str, token: str, account: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(f"{admin}/admin/v1/accounts/{account}", headers=headers) as resp:
        body: dict[str, Any] = await resp.json(content_type=None)
        detection: dict[str, Any] = body.get("detection") or {}
        if os.environ.get("DRILL_DUMP"):
            print(account, detection, file=sys.stderr)
        return detection


async def drill(args: argparse.Namespace) -> int:
    plan = FULL if args.full else QUICK
    picked: list[tuple[Account, BehaviourFn]] = []
    for scenario in args.scenario:
        picked += [p for p in build(plan, only=frozenset({scenario}))][: args.accounts]
    pools = load_pools(args.split)
    # the behaviours' simulated calendar starts on the kit's day; only gaps are replayed
    ctx = Context(pools=pools, start=START, days=plan.days, cap=plan.cap, scale=plan.scale)
    api, admin, mock, token = free_port(), free_port(), free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="dg-drill-") as tmp:
        keys = write_keys(Path(tmp) / "keys.yaml", (acc for acc, _ in picked))
        env = {
            **os.environ,
            "GATEWAY_LISTEN": f"127.0.0.1:{api}",
            "GATEWAY_ADMIN_LISTEN": f"127.0.0.1:{admin}",
            "GATEWAY_ADMIN_TOKEN": token,
            "GATEWAY_UPSTREAM": f"http://127.0.0.1:{mock}",
            "GATEWAY_POLICIES": args.policies,
            "GATEWAY_KEYS_FILE": str(Path(tmp) / "keys.yaml"),
            "GATEWAY_TRUSTED_PROXIES": "127.0.0.0/8",
            "GATEWAY_LOG_LEVEL": "error",
        }
        procs = [
            await asyncio.create_subprocess_exec(
                str(BIN), "mock-upstream", "--listen", f"127.0.0.1:{mock}"
            ),
            await asyncio.create_subprocess_exec(str(BIN), "serve", env=env),
        ]
        try:
            async with ClientSession() as session:
                base = f"http://127.0.0.1:{api}"
                await wait_ready(session, f"{base}/readyz")
                jobs = [drive(session, base, keys[a.name], a, fn, ctx, args) for a, fn in picked]
                results = await asyncio.wait_for(asyncio.gather(*jobs), args.timeout)
                await asyncio.sleep(1.0)  # detection runs off the hot path
                url = f"http://127.0.0.1:{admin}"
                views = [await view(session, url, token, a.name) for a, _ in picked]
        finally:
            for proc in procs:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 10)
    report(picked, results, views)
    return 0


def report(
    picked: list[tuple[Account, BehaviourFn]], results: list[Counter[str]], views: list[Any]
) -> None:
    by: dict[str, list[tuple[Counter[str], dict[str, Any]]]] = {}
    for (acc, _), seen, det in zip(picked, results, views, strict=True):
        by.setdefault(acc.scenario, []).append((seen, det))
    print(
        "| scenario | accounts | requests | answers | degraded | acted on (level > none) | "
        "first refusal (median request) | levels | top score |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---|---:|")
    for scenario, rows in by.items():
        answers: Counter[str] = Counter()
        for seen, _ in rows:
            answers.update({k: v for k, v in seen.items() if k[:1].isdigit()})
        levels = Counter(str(det.get("level", "?")) for _, det in rows)
        acted = sum(1 for seen, det in rows if det.get("level") not in (None, "none"))
        firsts = sorted(s["first_refused"] for s, _ in rows if s["first_refused"])
        first = str(firsts[len(firsts) // 2]) if firsts else "-"
        print(
            f"| {scenario} | {len(rows)} | {sum(s['sent'] for s, _ in rows)} | "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(answers.items()))} | "
            f"{sum(s['degraded'] for s, _ in rows)} | {acted} | {first} | "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(levels.items()))} | "
            f"{max(float(det.get('score') or 0) for _, det in rows):.2f} |"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest.redteam3_drill")
    p.add_argument("--scenario", action="append", required=True, help="kit scenario (repeat)")
    p.add_argument("--accounts", type=int, default=4, help="accounts per scenario")
    p.add_argument("--requests", type=int, default=80, help="most requests per account")
    p.add_argument("--speedup", type=float, default=600.0, help="simulated gaps / this")
    p.add_argument("--max-gap", type=float, default=0.5, help="longest real wait (s)")
    p.add_argument("--min-gap", type=float, default=0.12, help="shortest wait (s): pro budget")
    p.add_argument("--timeout", type=float, default=120.0, help="drill deadline (s)")
    p.add_argument("--policies", default="policies")
    p.add_argument("--split", choices=("reporting", "tuning"), default="reporting")
    p.add_argument("--full", action="store_true", help="accounts of the full plan")
    return asyncio.run(drill(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
