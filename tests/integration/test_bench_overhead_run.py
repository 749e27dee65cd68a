"""The overhead benchmark end to end on a tiny plan: real processes (mock, minimal proxy,
three gateways, a private redis-server), every scenario measured, every target judged."""

from __future__ import annotations

import shutil

import pytest

from loadtest.bench_overhead import parse_plan, run
from loadtest.bench_targets import BUDGETS, FULL, MINIMAL, OFF, render

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(240)]


def test_the_whole_bench_runs_end_to_end_on_a_tiny_plan() -> None:
    """Every scenario measured on real processes (a private redis-server): the table has
    every row, the gateways' Redis numbers are there, and every target has its line."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not on PATH")
    plan, _ = parse_plan(["--quick", "--own-redis", "--rounds", "1", "--duration", "0.5"])
    bench, ratios, unloaded = run(plan)
    names = [r.name for r in bench.results]
    assert names == ["mock upstream directly", MINIMAL, BUDGETS, OFF, FULL]
    for result in bench.results[2:]:
        assert result.ok_share == 1.0, result.load["statuses"]
        assert result.redis_cpu_s is not None and result.redis_cpu_s > 0
        trips = result.round_trips_per_request()
        assert trips is not None and trips > 0
    assert set(ratios) == {BUDGETS, OFF, FULL} and all(len(v) == 1 for v in ratios.values())
    assert all(len(p50s) == plan.unloaded_rounds for p50s in unloaded.values())
    text = render(bench.results, round_ratios=ratios, unloaded=unloaded, notes=bench.notes)
    assert text.count("target ") == 7
