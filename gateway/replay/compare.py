"""What would change: the log's decisions against the replayed ones.

Refusals are counted by budget and by tier, before (the log) and after (the candidate);
accounts and clusters are listed when they are newly refused (never refused in the log,
refused at least once in the replay) or no longer refused. Challenges and blocks are
detection's and are reported apart (not replayed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.replay.log import LogRead
from gateway.replay.simulate import DETECTION, Replayed

_SHOWN = 20  # accounts and clusters listed in the text report


@dataclass
class Comparison:
    requests: int = 0
    skipped_lines: int = 0
    unreplayable: int = 0
    detection: int = 0
    refusals_before: int = 0
    refusals_after: int = 0
    now_refused: int = 0  # requests admitted in the log, refused by the candidate
    now_admitted: int = 0  # requests refused in the log, admitted by the candidate
    by_budget: dict[str, list[int]] = field(default_factory=dict)  # name -> [before, after]
    by_tier: dict[str, list[int]] = field(default_factory=dict)
    shadow_after: dict[str, int] = field(default_factory=dict)
    accounts_newly_refused: list[str] = field(default_factory=list)
    accounts_no_longer_refused: list[str] = field(default_factory=list)
    clusters_newly_refused: list[str] = field(default_factory=list)
    clusters_no_longer_refused: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "skipped_lines": self.skipped_lines,
            "unreplayable_lines": self.unreplayable,
            "detection_not_replayed": self.detection,
            "refusals": {"before": self.refusals_before, "after": self.refusals_after},
            "now_refused": self.now_refused,
            "now_admitted": self.now_admitted,
            "by_budget": {k: {"before": v[0], "after": v[1]} for k, v in self.by_budget.items()},
            "by_tier": {k: {"before": v[0], "after": v[1]} for k, v in self.by_tier.items()},
            "shadow_would_refuse": dict(self.shadow_after),
            "accounts": {
                "newly_refused": self.accounts_newly_refused,
                "no_longer_refused": self.accounts_no_longer_refused,
            },
            "clusters": {
                "newly_refused": self.clusters_newly_refused,
                "no_longer_refused": self.clusters_no_longer_refused,
            },
        }


def _count(table: dict[str, list[int]], key: str, column: int) -> None:
    table.setdefault(key, [0, 0])[column] += 1


def compare(read: LogRead, outcomes: Sequence[Replayed]) -> Comparison:
    result = Comparison(
        requests=len(outcomes), skipped_lines=read.skipped_lines, unreplayable=read.unreplayable
    )
    before: dict[str, Counter[str]] = {"account": Counter(), "cluster": Counter()}
    after: dict[str, Counter[str]] = {"account": Counter(), "cluster": Counter()}
    for item in outcomes:
        req = item.request
        if item.action == DETECTION:
            result.detection += 1
            continue
        was, now = req.decision == "refuse", item.action == "refuse"
        for name in item.shadow:
            result.shadow_after[name] = result.shadow_after.get(name, 0) + 1
        sides = (
            (was, 0, req.refused_by, req.tier, before),
            (now, 1, item.refused_by, item.tier, after),
        )
        for refused, column, budget, tier, who in sides:
            if refused:
                _count(result.by_budget, budget or "(unnamed)", column)
                _count(result.by_tier, tier, column)
                who["account"][req.account] += 1
                who["cluster"][req.cluster] += 1
        result.refusals_before += was
        result.refusals_after += now
        result.now_refused += now and not was
        result.now_admitted += was and not now
    result.accounts_newly_refused = sorted(set(after["account"]) - set(before["account"]))
    result.accounts_no_longer_refused = sorted(set(before["account"]) - set(after["account"]))
    result.clusters_newly_refused = sorted(set(after["cluster"]) - set(before["cluster"]))
    result.clusters_no_longer_refused = sorted(set(before["cluster"]) - set(after["cluster"]))
    return result


def _names(label: str, names: list[str]) -> list[str]:
    if not names:
        return [f"{label}: none"]
    more = f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    return [f"{label} ({len(names)}): {', '.join(names[:_SHOWN])}{more}"]


def _table(title: str, table: dict[str, list[int]]) -> list[str]:
    if not table:
        return []
    width = max(len(k) for k in table)
    lines = [f"{title:<{width}}  {'log':>7}  {'replay':>7}  {'change':>7}"]
    for key, (was, now) in sorted(table.items()):
        lines.append(f"{key:<{width}}  {was:>7}  {now:>7}  {now - was:>+7}")
    return [*lines, ""]


def render(result: Comparison) -> str:
    lines = [
        f"replayed {result.requests} requests "
        f"({result.skipped_lines} other lines skipped, {result.unreplayable} request lines "
        "without replay fields)",
        f"refusals: {result.refusals_before} in the log, {result.refusals_after} with the "
        f"candidate policy ({result.now_refused} newly refused, {result.now_admitted} newly "
        "admitted requests)",
        f"challenged or blocked by detection (not replayed): {result.detection}",
        "",
        *_table("budget", result.by_budget),
        *_table("tier", result.by_tier),
    ]
    if result.shadow_after:
        lines.append("shadow budgets that would refuse with the candidate policy:")
        lines += [f"  {k}: {v}" for k, v in sorted(result.shadow_after.items())]
        lines.append("")
    lines += _names("accounts newly refused", result.accounts_newly_refused)
    lines += _names("accounts no longer refused", result.accounts_no_longer_refused)
    lines += _names("clusters newly refused", result.clusters_newly_refused)
    lines += _names("clusters no longer refused", result.clusters_no_longer_refused)
    return "\n".join(lines) + "\n"
