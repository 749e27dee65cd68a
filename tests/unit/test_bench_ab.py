"""loadtest.bench_ab: side A runs another commit's code, unpacked apart from this checkout."""

from __future__ import annotations

from pathlib import Path

from loadtest.bench_ab import Side, export


def test_side_a_is_the_commits_own_tree(tmp_path: Path) -> None:
    tree = export("HEAD", tmp_path)
    assert (tree / "gateway" / "proxy" / "pipeline.py").is_file()


def test_the_summary_is_the_median_of_the_rounds() -> None:
    side = Side("A", Path("."), cpu_us=[500.0, 400.0, 450.0], rps=[10.0, 30.0, 20.0])
    side.redis_us, side.unloaded_ms = [60.0], [1.0, 2.0, 3.0]
    assert side.summary().startswith("A: gateway CPU µs/req 450 [500, 400, 450]")
    assert "req/s 20 " in side.summary() and "unloaded p50 ms 2.000" in side.summary()
