"""From per-account records to the published numbers (fractions in [0, 1]).

* An action is the first request answered at a level: throttle (level >= 1) or challenge
  (>= 3, a proof-of-work challenge or a block). "Responses before action" counts what the
  account got before it: harvest responses for harvesters (camouflage does not count), all
  responses for benign accounts. An account never acted upon is censored at what it got.
* recall at N: the share of harvesting accounts acted upon before their N-th response.
  Accounts never acted upon count as missed, whatever their volume.
* cost multiplier: accounts needed to extract 10,000 responses (each stops at a challenge)
  divided by accounts needed with no defence (each extracts all it planned).
* harm to a benign account: any detection level (throttle or above), any degraded response,
  or any refusal by the budget of a cluster linked by soft evidence only, unless the account
  or a member of its cluster was over its own shipped plan (``own_plan``: in production each
  member's own budgets stop it at its plan, so such a pool refuses nobody who keeps to it). The
  headline shows the pooled rate and the worst persona's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from gateway.model import Level
from loadtest.detection.traffic import Record

RECALL_AT = (100, 300, 1000, 3000)
TARGET = 10_000


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))])


def useful(rec: Record) -> int:
    return rec.harvest_served if rec.account.role == "harvest" else rec.served


def before(rec: Record, level: Level) -> int | None:
    """Responses the account got before ``level`` first applied (None: it never did)."""
    return rec.served_before.get(int(level))


def harmed(rec: Record) -> bool:
    """Detection acted on the account (any level, a degraded response) or the budget of a
    soft-only cluster refused it."""
    return rec.max_level >= Level.THROTTLE or rec.degraded > 0 or rec.soft_cluster_429 > 0


def harmed_share(records: Sequence[Record]) -> float:
    return sum(1 for r in records if harmed(r)) / len(records) if records else 0.0


def recall(records: Sequence[Record], level: Level, n: int) -> float:
    if not records:
        return 0.0
    hit = sum(1 for r in records if (b := before(r, level)) is not None and b < n)
    return hit / len(records)


def cost_multiplier(records: Sequence[Record]) -> float:
    if not records:
        return 1.0
    yields = [b if (b := before(r, Level.CHALLENGE)) is not None else useful(r) for r in records]
    mean_yield = sum(yields) / len(yields)
    planned = sum(r.account.planned for r in records) / len(records)
    if mean_yield <= 0:
        return math.inf
    with_defence = math.ceil(TARGET / mean_yield)
    without = math.ceil(TARGET / max(1.0, planned))
    return with_defence / without


def _spread(records: Sequence[Record], level: Level) -> dict[str, float]:
    values = [b if (b := before(r, level)) is not None else useful(r) for r in records]
    return {
        "median": quantile(values, 0.5),
        "p95": quantile(values, 0.95),
        "never_acted": sum(1 for r in records if before(r, level) is None),
    }


def scenario_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Every number of one scenario."""
    role = records[0].account.role
    tokens = sum(r.tokens for r in records)
    out: dict[str, Any] = {
        "role": role,
        "accounts": len(records),
        "requests": sum(r.sent for r in records),
        "responses": sum(r.served for r in records),
        "harvest_responses": sum(r.harvest_served for r in records),
        "budget_429": sum(r.budget_429 for r in records),
        "soft_cluster_429": sum(r.soft_cluster_429 for r in records),
        "degraded_responses": sum(r.degraded for r in records),
        "ever_harmed": harmed_share(records),
        "ever_throttled": _share(records, Level.THROTTLE),
        "ever_challenged": _share(records, Level.CHALLENGE),
        "ever_blocked": _share(records, Level.BLOCK),
        "first_action_reasons": _top_reasons(records),
        "clusters": len({r.cluster for r in records}),
        "largest_cluster": max(r.cluster_size for r in records),
        "tokens": tokens,
        "tokens_affected_share": sum(r.affected_tokens for r in records) / tokens if tokens else 0,
        "responses_before_throttle": _spread(records, Level.THROTTLE),
        "responses_before_challenge": _spread(records, Level.CHALLENGE),
    }
    if role == "harvest":
        out["recall_throttle"] = {str(n): recall(records, Level.THROTTLE, n) for n in RECALL_AT}
        out["recall_challenge"] = {str(n): recall(records, Level.CHALLENGE, n) for n in RECALL_AT}
        out["cost_multiplier"] = cost_multiplier(records)
        out["planned_per_account"] = records[0].account.planned
    return out


def _top_reasons(records: Sequence[Record], keep: int = 6) -> list[str]:
    """The most common detection reasons (numbers stripped) at the first action."""
    counts: dict[str, int] = {}
    for r in records:
        for reason in {re.sub(r"[0-9.]+", "#", x) for x in r.reasons}:
            counts[reason] = counts.get(reason, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    return [f"{n}x {reason}" for reason, n in ranked]


def _share(records: Sequence[Record], level: Level) -> float:
    return sum(1 for r in records if r.max_level >= level) / len(records) if records else 0.0


def summarise(records: Sequence[Record]) -> dict[str, Any]:
    """Top-level numbers and per-scenario metrics."""
    by: dict[str, list[Record]] = {}
    for r in records:
        by.setdefault(r.account.scenario, []).append(r)
    harvest = [r for r in records if r.account.role == "harvest"]
    benign = [r for r in records if r.account.role == "benign"]
    scenarios = {name: scenario_metrics(recs) for name, recs in by.items()}
    harvest_names = [n for n, m in scenarios.items() if m["role"] == "harvest"]

    def macro(level: Level, n: int) -> float:
        return sum(recall(by[s], level, n) for s in harvest_names) / max(1, len(harvest_names))

    benign_tokens = sum(r.tokens for r in benign)
    personas = [n for n, m in scenarios.items() if m["role"] == "benign"]
    harmed_personas = [n for n in personas if scenarios[n]["ever_harmed"] > 0]
    worst = max(harmed_personas, key=lambda n: (scenarios[n]["ever_harmed"], n), default="")
    worst_challenged = max((_share(by[n], Level.CHALLENGE) for n in personas), default=0.0)
    return {
        "harvest_recall_throttle_at_300": recall(harvest, Level.THROTTLE, 300),
        "harvest_recall_challenge_at_1000": recall(harvest, Level.CHALLENGE, 1000),
        "harvest_recall_throttle_at_300_by_strategy_mean": macro(Level.THROTTLE, 300),
        "harvest_recall_challenge_at_1000_by_strategy_mean": macro(Level.CHALLENGE, 1000),
        "benign_challenged_rate": _share(benign, Level.CHALLENGE),
        "benign_throttled_rate": _share(benign, Level.THROTTLE),
        "benign_harmed_rate": harmed_share(benign),
        "benign_harmed_rate_worst_persona": scenarios[worst]["ever_harmed"] if worst else 0.0,
        "benign_harmed_worst_persona": worst,
        "benign_challenged_rate_worst_persona": worst_challenged,
        "benign_tokens_affected_share": (
            sum(r.affected_tokens for r in benign) / benign_tokens if benign_tokens else 0.0
        ),
        "harvest_accounts": len(harvest),
        "benign_accounts": len(benign),
        "budget_429": sum(r.budget_429 for r in records),
        "scenarios": scenarios,
    }
