"""``gateway replay --policies NEW/ --log requests.jsonl [--json]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway.policy.commands import load_or_report
from gateway.replay.compare import compare, render
from gateway.replay.log import read_log
from gateway.replay.simulate import Replay


def _replay(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.policies)
    if loaded is None:
        return 1
    try:
        with open(args.log, encoding="utf-8", errors="replace") as lines:
            read = read_log(lines)
    except OSError as exc:
        print(f"gateway replay: cannot read {args.log}: {exc.strerror}", file=sys.stderr)
        return 2
    outcomes = asyncio.run(Replay(loaded).run(read.requests))
    result = compare(read, outcomes)
    if args.json:
        print(json.dumps({"policy": loaded.version, **result.as_dict()}, indent=2))
    else:
        sys.stdout.write(f"candidate policy {loaded.version} ({', '.join(loaded.sources)})\n")
        sys.stdout.write(render(result))
    return 0


def register(sub: Any) -> None:
    replay = sub.add_parser(
        "replay",
        help="replay a request log against a candidate policy: what would change",
        description="Replays the gateway's own request log lines in simulated time against "
        "the candidate policy (budgets only, on the in-memory store) and prints the "
        "refusals that would change.",
    )
    replay.add_argument("--policies", required=True, help="candidate policy file or folder")
    replay.add_argument("--log", required=True, help="request log (JSON lines) to replay")
    replay.add_argument("--json", action="store_true", help="machine-readable output")
    replay.set_defaults(func=_replay)
