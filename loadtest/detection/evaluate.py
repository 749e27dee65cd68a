"""One evaluation: the accounts of a plan, driven through an in-process gateway, summarised."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.clock import FakeClock
from loadtest.corpus import REPORTING_PARTS, TUNING_PARTS
from loadtest.detection.context import Context
from loadtest.detection.harness import Harness
from loadtest.detection.metrics import summarise
from loadtest.detection.policy import write_evaluation_policy
from loadtest.detection.pools import Split, load_pools
from loadtest.detection.runner import run
from loadtest.detection.scenarios import Plan, build

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
NOTES = [
    "- Every request goes through the real gateway (aiohttp, in process, full HTTP stack) to "
    "the mock upstream; the clock is simulated (FakeClock) and the detection and linker queues "
    "are drained after each request, so a run is deterministic for a seed.",
    '- "Throttled by detection" is the level the budget script applies (max of the account\'s '
    "and its cluster's level keys) at send time; budget 429s are counted apart.",
    "- Harvesters stop at a challenge or a block (they would have to pay proof-of-work or "
    "switch accounts); throttled or degraded, they go on. Benign clients solve challenges and "
    "go on (each solve costs real CPU, so a run solves at most a fixed number; after that a "
    "benign client's challenge stands and its request counts as refused).",
    "- recall at N: share of harvesting accounts acted upon before their N-th harvest response; "
    "accounts never acted upon count as missed, whatever their volume (hydra members plan "
    "only tens of requests each). Headline recall pools all harvesting accounts, so the "
    "1,000-account hydra weighs most; the per-strategy mean weighs strategies equally.",
    "- Cost ×: accounts needed to extract 10,000 harvest responses (each stopping at its first "
    "challenge; accounts never challenged keep all they got) over accounts needed with no "
    "defence (each gets all it planned).",
    "- Account budgets are generous; the shipped account budgets (requests, tokens, quotas, "
    "concurrency, diversity) run beside them in shadow. A refusal by a soft-only cluster's "
    "budget counts as harm unless the account was over its own shipped plan, or a member of "
    "its cluster was within the hour (in production each member's own budgets stop it at its "
    "plan, so the pooled budget of a soft-only cluster refuses nobody who keeps to it).",
]


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line chooses besides the plan."""

    policies: str = "policies/default.yaml"
    split: Split = "reporting"
    benign: tuple[str, ...] = ()
    harvest: tuple[str, ...] = ()
    store: str = "memory://"
    seed: int = 1
    command: str = "python -m loadtest.detection"
    trace: str | None = None
    verbose: bool = False
    only: frozenset[str] = frozenset()  # scenarios to run (empty: all)


async def evaluate(plan: Plan, options: Options) -> dict[str, Any]:
    """Run ``plan`` and return the result (numbers and run metadata)."""
    pools = load_pools(options.split, options.benign, options.harvest)
    accounts = build(plan, options.seed, options.only)
    clock = FakeClock(START)
    ctx = Context(pools=pools, start=START, days=plan.days, cap=plan.cap, scale=plan.scale)
    trace: list[dict[str, Any]] | None = [] if options.trace else None
    with tempfile.TemporaryDirectory(prefix="dg-detection-") as tmp:
        policy = write_evaluation_policy(Path(options.policies), Path(tmp) / "policies")
        harness = Harness(policy, Path(tmp), options.store, clock, plan.solve_budget)
        await harness.start(acc for acc, _ in accounts)
        try:
            progress = (lambda m: print(m, file=sys.stderr)) if options.verbose else None
            records, stats = await run(harness, clock, ctx, accounts, progress, trace)
        finally:
            await harness.close()
    if options.trace and trace is not None:
        await asyncio.to_thread(Path(options.trace).write_text, json.dumps(trace), "utf-8")
    result = summarise(records)
    result["run"] = {
        "mode": plan.name,
        "command": options.command,
        "policy": options.policies,
        "store": options.store,
        "seed": options.seed,
        "split": pools.split,
        "files": pools.files,
        "corpus_dir": pools.directory or "command line",
        "tuning_files": [str(p) for p in TUNING_PARTS],
        "reporting_files": [str(p) for p in REPORTING_PARTS],
        "requests": stats.requests,
        "wall_seconds": round(stats.wall_seconds, 1),
        "simulated_days": stats.simulated_days,
        "challenges_solved": harness.solved,
        "solve_budget": plan.solve_budget,
        "notes": NOTES,
    }
    return result
