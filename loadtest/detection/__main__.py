"""``python -m loadtest.detection``: run the evaluation and write the report."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from gateway.observability.logging import configure_logging
from loadtest.detection.evaluate import Options, evaluate
from loadtest.detection.report import TARGETS, write_json, write_report
from loadtest.detection.scenarios import FULL, QUICK, build


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m loadtest.detection",
        description="Evaluate harvest detection on simulated traffic.",
    )
    p.add_argument("--quick", action="store_true", help="small smoke run (well under 60 s)")
    p.add_argument("--policies", default="policies/default.yaml", help="policy file or folder")
    p.add_argument("--benign", nargs="+", default=[], metavar="FILE", help="benign JSONL")
    p.add_argument("--harvest", nargs="+", default=[], metavar="FILE", help="harvest JSONL")
    p.add_argument(
        "--split",
        choices=("reporting", "tuning"),
        default="reporting",
        help="corpus files to draw from (default: reporting; tune on tuning)",
    )
    p.add_argument("--store", default="memory://", help="memory:// or redis://host:port/db")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", dest="json_out", help="write the JSON result here")
    p.add_argument("--report", help="write report.md, report.json and the chart here")
    p.add_argument("--trace", help="calibration: family scores at 40/100/300 requests (JSON)")
    p.add_argument("--verbose", action="store_true", help="progress per simulated day")
    p.add_argument(
        "--only", nargs="+", default=[], metavar="SCENARIO", help="run only these scenarios"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = QUICK if args.quick else FULL
    unknown = set(args.only) - {acc.scenario for acc, _ in build(plan)}
    if unknown:
        print(f"--only: unknown scenario(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    configure_logging("json", "error")
    words = sys.argv[1:] if argv is None else argv
    options = Options(
        policies=args.policies,
        split=args.split,
        benign=tuple(args.benign),
        harvest=tuple(args.harvest),
        store=args.store,
        seed=args.seed,
        command=" ".join(["python -m loadtest.detection", shlex.join(words)]).strip(),
        trace=args.trace,
        verbose=args.verbose,
        only=frozenset(args.only),
    )
    result = asyncio.run(evaluate(plan, options))
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
