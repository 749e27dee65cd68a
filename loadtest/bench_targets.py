"""The overhead benchmark's verdicts: issue 13's targets for the full gateway (shipped
policies, detection in workers) and issue 3's for budgets only, each line met / NOT met /
not measured, and the whole printed report."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from loadtest.bench_report import Result, ratio_lines, render_table
from loadtest.bench_worker import histogram_quantile, quantile_bucket

MINIMAL = "minimal aiohttp proxy"
BUDGETS = "gateway (budgets only)"
OFF = "gateway (detection off)"
FULL = "gateway (full, shipped policies/)"
MIN_OK_SHARE = 0.99  # below it the run measured refusals, not pass-through


@dataclass(frozen=True)
class Target:
    label: str
    limit: float
    at_least: bool  # True: value >= limit; False: value <= limit
    unit: str = ""
    digits: int = 2

    def line(self, value: float | None, note: str = "") -> str:
        if value is None:
            verdict, shown = "not measured", "-"
        else:
            met = value >= self.limit if self.at_least else value <= self.limit
            verdict = "met" if met and not note else "NOT met"
            shown = ">max bucket" if math.isinf(value) else f"{value:.{self.digits}f}{self.unit}"
        return f"target {self.label}: {shown}: {verdict}{f' ({note})' if note else ''}"


RPS = Target("full gateway req/s >= 0.5x the minimal proxy's (median round)", 0.5, True)
CPU = Target("full gateway CPU per request <= 2x the minimal proxy's", 2.0, False)
REDIS_CPU = Target("Redis CPU per request <= 60 µs (full)", 60.0, False, " µs", 0)
TRIPS = Target("Redis round trips per request <= 1 (full)", 1.0, False)
LAG = Target("detection lag p99 <= 2 s (full)", 2.0, False, " s", 3)
ADDED = Target("unloaded added latency p50 <= 0.5 ms (full, 1 connection)", 0.5, False, " ms")
BUDGETS_RPS = Target(
    "budgets only req/s >= 0.5x the minimal proxy's, <= 1 round trip (issue 3)", 0.5, True
)


def lag_line(buckets: dict[float, float]) -> str:
    """The lag target judged on the histogram's bucket that holds p99: met when its upper
    bound is within the limit, NOT met when its lower bound is at or beyond it, else
    undecided (the value shown is interpolated inside the bucket)."""
    found = quantile_bucket(buckets, 0.99)
    value = histogram_quantile({}, buckets, 0.99)
    if found is None or value is None:
        return LAG.line(None)
    lower, upper = found
    shown = ">max bucket" if math.isinf(value) else f"{value:.3f} s"
    if upper <= LAG.limit:
        verdict = "met"
    elif lower >= LAG.limit:
        verdict = "NOT met"
    else:
        verdict = "undecided"
    return f"target {LAG.label}: {shown}: {verdict} (p99 in the ({lower:g}, {upper:g}] s bucket)"


def _median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def _per_req(result: Result | None, seconds: Callable[[Result], float | None]) -> float | None:
    return None if result is None else result.per_request_us(seconds(result))


def added_latency(unloaded: dict[str, list[float]], name: str) -> list[float]:
    """Per round: the scenario's unloaded p50 minus the minimal proxy's (ms)."""
    base = unloaded.get(MINIMAL, [])
    return [g - m for g, m in zip(unloaded.get(name, []), base, strict=False)]


def target_lines(
    results: list[Result],
    round_ratios: dict[str, list[float]],
    unloaded: dict[str, list[float]],
) -> list[str]:
    found = {r.name: r for r in results if not r.stream}
    minimal, full, budgets = found.get(MINIMAL), found.get(FULL), found.get(BUDGETS)
    lines = []
    for name, ratios in round_ratios.items():
        if ratios:
            shown = ", ".join(f"{r:.2f}" for r in ratios)
            lines.append(
                f"{name} / minimal proxy req/s per round: {shown}; median {_median(ratios):.2f}"
            )
    refused = ""
    if full is not None and full.ok_share < MIN_OK_SHARE:
        refused = f"{1 - full.ok_share:.1%} not 200: the run measured refusals"
    lines.append(RPS.line(_median(round_ratios.get(FULL)), refused))
    proxy = _per_req(full, lambda r: r.proxy_cpu_s)
    base = _per_req(minimal, lambda r: r.proxy_cpu_s)
    lines.append(CPU.line(proxy / base if proxy is not None and base else None))
    lines.append(REDIS_CPU.line(_per_req(full, lambda r: r.redis_cpu_s)))
    lines.append(TRIPS.line(full.round_trips_per_request() if full else None))
    detect = full.detect if full else None
    lines.append(lag_line(detect.lag_buckets if detect else {}))
    lines.append(ADDED.line(_median(added_latency(unloaded, FULL))))
    if detect is not None:
        per = detect.cpu_per_sighting_us()
        mean = f"{detect.applied / detect.batches:.0f}" if detect.batches else "-"
        lines.append(
            f"full: worker CPU {'-' if per is None else f'{per:.0f}'} µs per sighting; "
            f"sightings appended {detect.appended:.0f}, applied {detect.applied:.0f} "
            f"in {detect.batches:.0f} batches (mean {mean}), "
            f"dropped {detect.dropped:.0f}, trimmed {detect.trimmed:.0f}"
        )
    if budgets is not None:
        trips = budgets.round_trips_per_request()
        note = "" if trips is None or trips <= 1 else f"{trips:.2f} round trips/req"
        lines.append(BUDGETS_RPS.line(_median(round_ratios.get(BUDGETS)), note))
    return lines


def unloaded_lines(unloaded: dict[str, list[float]]) -> list[str]:
    if not unloaded:
        return []
    out = [f"{'unloaded (1 connection)':<36}{'p50 ms':>9}{'added p50 ms':>14}  per round"]
    for name, p50s in unloaded.items():
        added = added_latency(unloaded, name) if name != MINIMAL else []
        per_round = ", ".join(f"{v:.3f}" for v in p50s)
        shown = "-" if not added else f"{_median(added):.3f}"
        out.append(f"{name:<36}{_median(p50s) or 0:>9.3f}{shown:>14}  {per_round}")
    return out


PAIRS = [
    ("minimal proxy / direct", MINIMAL, "mock upstream directly"),
    ("budgets only / minimal", BUDGETS, MINIMAL),
    ("detection off / minimal", OFF, MINIMAL),
    ("full / minimal", FULL, MINIMAL),
    ("detection off / budgets only", OFF, BUDGETS),
    ("full / detection off", FULL, OFF),
]


def render(
    results: list[Result],
    *,
    round_ratios: dict[str, list[float]] | None = None,
    unloaded: dict[str, list[float]] | None = None,
    shared_redis: bool = False,
    notes: list[str] | None = None,
) -> str:
    out = render_table(results, shared_redis)
    ratios = ratio_lines(results, PAIRS)
    if ratios:
        out += ["", "ratios (merged rounds, non-streaming):", *ratios]
    if unloaded:
        out += ["", *unloaded_lines(unloaded)]
    out += ["", *target_lines(results, round_ratios or {}, unloaded or {})]
    out += [f"note: {n}" for n in notes or []]
    return "\n".join(out)
