"""The report: JSON (numbers), Markdown (for people) and a PNG chart (matplotlib)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

TARGETS = (
    ("harvest_recall_throttle_at_300", ">=", 0.95),
    ("harvest_recall_challenge_at_1000", ">=", 0.90),
    ("benign_challenged_rate", "<=", 0.005),
    ("benign_harmed_rate", "<=", 0.02),
    ("benign_harmed_rate_worst_persona", "<=", 0.02),
)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _num(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.1f}"


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(result), indent=2, allow_nan=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")


def _finite(value: Any) -> Any:
    """``value`` with infinities and NaNs as null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def markdown(result: dict[str, Any]) -> str:
    meta = result["run"]
    lines = [
        f"# Harvest detection evaluation ({meta['mode']} run)",
        "",
        f"Command: `{meta['command']}`  ",
        f"Policy: `{meta['policy']}` (its `detection` and `clusters` sections, with its cluster "
        "budgets; account budgets made generous so that detection, not budgets, is measured)  ",
        f"Prompts: **{meta['split']}** split. Benign: {', '.join(meta['files']['benign'])}; "
        f"harvest: {', '.join(meta['files']['harvest'])} (from `{meta['corpus_dir']}`).  ",
        f"Tuning files: {', '.join(meta['tuning_files'])}. Reporting files: "
        f"{', '.join(meta['reporting_files'])}. The split is by source file, never by prompt.  ",
        f"Simulated {meta['simulated_days']:g} days, {meta['requests']} requests through the "
        f"full HTTP stack in {meta['wall_seconds']:.0f} s (store `{meta['store']}`, seed "
        f"{meta['seed']}).",
        "",
        "## Headline",
        "",
        "| metric | value | target | met |",
        "|---|---:|---:|:---:|",
    ]
    for key, op, target in TARGETS:
        value = result[key]
        met = value >= target if op == ">=" else value <= target
        lines.append(
            f"| `{key}` | {_pct(value)} | {op} {_pct(target)} | {'yes' if met else 'no'} |"
        )
    lines += [
        "",
        f"Per-strategy mean (each strategy weighs the same, whatever its account count): "
        f"throttle before 300: {_pct(result['harvest_recall_throttle_at_300_by_strategy_mean'])}"
        f", challenge before 1,000: "
        f"{_pct(result['harvest_recall_challenge_at_1000_by_strategy_mean'])}. Benign tokens "
        f"affected: {_pct(result['benign_tokens_affected_share'])}. Budget 429s (all "
        f"accounts): {result['budget_429']}. Harmed = any detection level, any degraded "
        f"response or any refusal by a soft-only cluster's budget that the account's own plan "
        f"would not have made; worst persona: "
        f"{result['benign_harmed_worst_persona'] or '-'}; benign accounts ever throttled: "
        f"{_pct(result['benign_throttled_rate'])}.",
        "",
        "## Harvest strategies",
        "",
        "| strategy | accounts | throttled <100 / <300 / <1k / <3k | challenged <100 / <300 / "
        "<1k / <3k | responses before throttle (median / p95) | before challenge (median / "
        "p95) | cost × |",
        "|---|---:|---|---|---|---|---:|",
    ]
    for name, m in result["scenarios"].items():
        if m["role"] != "harvest":
            continue
        rt = " / ".join(_pct(v) for v in m["recall_throttle"].values())
        rc = " / ".join(_pct(v) for v in m["recall_challenge"].values())
        bt, bc = m["responses_before_throttle"], m["responses_before_challenge"]
        lines.append(
            f"| {name} | {m['accounts']} | {rt} | {rc} | {bt['median']:.0f} / "
            f"{bt['p95']:.0f} | {bc['median']:.0f} / {bc['p95']:.0f} | "
            f"{_num(m['cost_multiplier'])} |"
        )
    lines += [
        "",
        "## Benign personas",
        "",
        "| persona | accounts | requests | ever harmed | ever throttled | ever challenged | "
        "ever blocked | tokens affected | degraded responses | budget 429 (soft cluster) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in result["scenarios"].items():
        if m["role"] != "benign":
            continue
        lines.append(
            f"| {name} | {m['accounts']} | {m['requests']} | {_pct(m['ever_harmed'])} | "
            f"{_pct(m['ever_throttled'])} | {_pct(m['ever_challenged'])} | "
            f"{_pct(m['ever_blocked'])} | {_pct(m['tokens_affected_share'])} | "
            f"{m['degraded_responses']} | {m['budget_429']} ({m['soft_cluster_429']}) |"
        )
    lines += ["", "## How to read this", "", *result["run"]["notes"], ""]
    return "\n".join(lines)


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Bars: median and p95 responses extracted before throttle and before challenge."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, m in result["scenarios"].items() if m["role"] == "harvest"]
    series = [
        ("before throttle, median", "responses_before_throttle", "median"),
        ("before throttle, p95", "responses_before_throttle", "p95"),
        ("before challenge, median", "responses_before_challenge", "median"),
        ("before challenge, p95", "responses_before_challenge", "p95"),
    ]
    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.2
    for k, (label, key, stat) in enumerate(series):
        values = [max(0.5, result["scenarios"][n][key][stat]) for n in names]
        ax.bar([i + (k - 1.5) * width for i in range(len(names))], values, width, label=label)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("harvest responses per account (log)")
    ax.set_title(f"Responses extracted before action ({result['run']['mode']} run)")
    ax.axhline(300, color="grey", linestyle=":", linewidth=1)
    ax.axhline(1000, color="grey", linestyle="--", linewidth=1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.md", folder / "report.json", folder / "responses_before_action.png"]
    paths[0].write_text(markdown(result), encoding="utf-8")
    write_json(result, paths[1])
    write_chart(result, paths[2])
    return paths
