"""Runs every account's behaviour against the gateway in simulated-time order."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.clock import FakeClock
from gateway.model import Level
from loadtest.detection.context import Context
from loadtest.detection.continuity import ServedAnswers, resends_served
from loadtest.detection.harness import Harness
from loadtest.detection.scenarios import BehaviourFn
from loadtest.detection.traffic import Account, Behaviour, Outcome, Record, Request

TRACE_AT = frozenset({40, 100, 300})
DETECTION_403 = frozenset({"challenge_required", "account_blocked", "verification_required"})


@dataclass(frozen=True, slots=True)
class RunStats:
    requests: int
    wall_seconds: float
    simulated_days: float


def record(rec: Record, request: Request, out: Outcome) -> None:
    """Fold one answer into the account's record."""
    rec.sent += 1
    useful = rec.harvest_served if rec.account.role == "harvest" else rec.served
    level = out.level
    if out.challenged or out.error_code == "challenge_required":
        rec.challenged += 1
        level = max(level, int(Level.CHALLENGE))
    if out.error_code in ("account_blocked", "verification_required"):
        rec.blocked += 1
        level = max(level, int(Level.BLOCK))
    for lvl in range(1, level + 1):
        rec.served_before.setdefault(lvl, useful)
    rec.max_level = max(rec.max_level, level)
    rec.tokens += out.tokens
    if out.status == 429:
        rec.budget_429 += 1
        rec.soft_cluster_429 += out.soft_cluster_refused
    detection_hit = level >= Level.THROTTLE or out.degraded or out.error_code in DETECTION_403
    if detection_hit:
        rec.affected_tokens += out.tokens
    rec.degraded += out.degraded
    if out.served:
        rec.served += 1
        rec.harvest_served += request.harvest


async def run(
    harness: Harness,
    clock: FakeClock,
    ctx: Context,
    accounts: list[tuple[Account, BehaviourFn]],
    progress: Callable[[str], None] | None = None,
    trace: list[dict[str, Any]] | None = None,
) -> tuple[list[Record], RunStats]:
    """Drive every behaviour until it ends or the simulated period is over."""
    records = [Record(acc) for acc, _ in accounts]
    behaviours: list[Behaviour] = [fn(acc, ctx) for acc, fn in accounts]
    served = ServedAnswers()  # honest clients resend what they were served (continuity.py)
    resends = [resends_served(acc) for acc, _ in accounts]
    queue: list[tuple[float, int, Request]] = []
    for i, b in enumerate(behaviours):
        first = next(b, None)
        if first is not None:
            heapq.heappush(queue, (first[0], i, first[1]))
    started, sent, next_report = time.perf_counter(), 0, ctx.start
    while queue:
        t, i, request = heapq.heappop(queue)
        if t >= ctx.end:
            continue
        if t > clock.now():
            clock.set(t)
        acc = accounts[i][0]
        if resends[i]:
            request = served.resend(acc.name, request)
        out = await harness.send(acc.name, request, solve=acc.role == "benign")
        if resends[i] and out.served:
            served.record(acc.name, request, out.answer)
        record(records[i], request, out)
        if records[i].max_level and not records[i].reasons:
            records[i].reasons = await harness.reasons(acc.name)
        if trace is not None and records[i].sent in TRACE_AT:
            trace.append(
                {
                    "account": acc.name,
                    "scenario": acc.scenario,
                    "role": acc.role,
                    "sent": records[i].sent,
                    **await harness.families(acc.name),
                }
            )
        sent += 1
        if progress is not None and t >= next_report:
            progress(
                f"day {(t - ctx.start) / 86400:5.2f}: {sent} requests, "
                f"{time.perf_counter() - started:6.1f} s"
            )
            next_report += 86400
        try:
            nxt = behaviours[i].send(out)
        except StopIteration:
            continue
        heapq.heappush(queue, (max(nxt[0], t), i, nxt[1]))
    for rec in records:
        rec.cluster, rec.cluster_size = await harness.cluster_of(rec.account.name)
    stats = RunStats(sent, time.perf_counter() - started, ctx.days)
    return records, stats
