"""``python -m loadtest.detection``: run the evaluation and write the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from gateway.clock import FakeClock
from gateway.observability.logging import configure_logging
from loadtest.corpus import REPORTING_FILES, TUNING_FILES
from loadtest.detection.context import Context
from loadtest.detection.harness import Harness
from loadtest.detection.metrics import summarise
from loadtest.detection.policy import write_evaluation_policy
from loadtest.detection.pools import load_pools
from loadtest.detection.report import TARGETS, write_json, write_report
from loadtest.detection.runner import run
from loadtest.detection.scenarios import FULL, QUICK, build

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a Thursday
NOTES = [
    "- Every request goes through the real gateway (aiohttp, in process) to the mock upstream; "
    "the clock is simulated (FakeClock) and the detection and linker queues are drained after "
    "each request, so a run is deterministic for a seed.",
    '- "Throttled by detection" is the level the budget script applies (max of the account\'s '
    "and its cluster's level keys) at send time; budget 429s are counted apart.",
    "- Harvesters stop at a challenge or a block (they would have to pay proof-of-work or "
    "switch accounts); throttled or degraded, they go on. Benign clients solve challenges and "
    "go on.",
    "- recall at N: share of harvesting accounts acted upon before their N-th harvest response; "
    "accounts never acted upon count as missed, whatever their volume (hydra members plan "
    "only tens of requests each). Headline recall pools all harvesting accounts, so the "
    "1,000-account hydra weighs most; the per-strategy mean weighs strategies equally.",
    "- Cost ×: accounts needed to extract 10,000 harvest responses (each stopping at its first "
    "challenge; accounts never challenged keep all they got) over accounts needed with no "
    "defence (each gets all it planned).",
]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtest.detection", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small smoke run (< 60 s)")
    p.add_argument("--policies", default="policies/default.yaml", help="policy file or folder")
    p.add_argument("--benign", nargs="+", default=[], metavar="FILE", help="benign JSONL")
    p.add_argument("--harvest", nargs="+", default=[], metavar="FILE", help="harvest JSONL")
    p.add_argument(
        "--split",
        choices=("reporting", "tuning"),
        default="reporting",
        help="which corpus files to draw from (default: reporting)",
    )
    p.add_argument("--store", default="memory://", help="memory:// or redis://host:port/db")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", dest="json_out", help="write the JSON result here")
    p.add_argument("--report", help="write report.md, report.json and the chart here")
    p.add_argument("--trace", help="calibration: write family scores at 40/100/300 requests")
    p.add_argument("--verbose", action="store_true", help="progress per simulated day")
    return p.parse_args(argv)


async def evaluate(args: argparse.Namespace, command: str) -> dict[str, Any]:
    plan = QUICK if args.quick else FULL
    pools = load_pools(args.split, args.benign, args.harvest)
    accounts = build(plan, args.seed)
    clock = FakeClock(START)
    ctx = Context(pools=pools, start=START, days=plan.days, cap=plan.cap, scale=plan.scale)
    with tempfile.TemporaryDirectory(prefix="dg-detection-") as tmp:
        policy = write_evaluation_policy(Path(args.policies), Path(tmp) / "policies")
        harness = Harness(policy, Path(tmp), args.store, clock)
        await harness.start(acc for acc, _ in accounts)
        try:
            progress = (lambda m: print(m, file=sys.stderr)) if args.verbose else None
            trace: list[dict[str, Any]] | None = [] if args.trace else None
            records, stats = await run(harness, clock, ctx, accounts, progress, trace)
            if args.trace and trace is not None:
                Path(args.trace).write_text(json.dumps(trace), encoding="utf-8")
        finally:
            await harness.close()
    result = summarise(records)
    result["run"] = {
        "mode": plan.name,
        "command": command,
        "policy": args.policies,
        "store": args.store,
        "seed": args.seed,
        "split": pools.split,
        "files": pools.files,
        "corpus_dir": pools.directory or "command line",
        "tuning_files": list(TUNING_FILES),
        "reporting_files": list(REPORTING_FILES),
        "requests": stats.requests,
        "wall_seconds": round(stats.wall_seconds, 1),
        "simulated_days": stats.simulated_days,
        "notes": NOTES,
    }
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure_logging("json", "error")
    command = "python -m loadtest.detection " + shlex.join(sys.argv[1:] if argv is None else argv)
    result = asyncio.run(evaluate(args, command))
    if args.json_out:
        write_json(result, Path(args.json_out))
    if args.report:
        for path in write_report(result, Path(args.report)):
            print(f"wrote {path}")
    for key, op, target in TARGETS:
        print(f"{key}: {result[key]:.4f} (target {op} {target})")
    print(f"{result['run']['requests']} requests in {result['run']['wall_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
