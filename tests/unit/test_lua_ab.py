"""loadtest.lua_ab: the sides alternate round by round, each side's measurements and first
results are kept, and results that differ (or fail) make the exit status 1."""

from __future__ import annotations

import pytest

from loadtest.lua_ab import Sample, Side, identity, measure, ratio_line, ratios, replies_differ

NAMES = ("A (main)", "B (this checkout)")


def run_sides(
    replies: dict[str, list[object]], keys: dict[str, dict[object, object]]
) -> tuple[Side, Side, list[tuple[str, int]]]:
    """Three rounds of fake sides: each run's metric is its position in the run order."""
    runs: list[tuple[str, int]] = []
    current: list[str] = []

    def run(name: str, round_: int) -> Sample:
        runs.append((name, round_))
        current[:] = [name]
        return Sample({"CPU µs/call": float(len(runs))}, list(replies[name]))

    a, b = measure(NAMES, 3, run, lambda: dict(keys[current[0]]))
    return a, b, runs


def test_the_sides_alternate_and_each_keeps_its_rounds_in_order() -> None:
    a, b, runs = run_sides({n: [1, b"x"] for n in NAMES}, {n: {b"k": 1} for n in NAMES})
    assert runs == [
        (NAMES[0], 0), (NAMES[1], 0),
        (NAMES[1], 1), (NAMES[0], 1),
        (NAMES[0], 2), (NAMES[1], 2),
    ]  # fmt: skip
    assert a.metrics["CPU µs/call"] == [1.0, 4.0, 5.0]
    assert b.metrics["CPU µs/call"] == [2.0, 3.0, 6.0]
    assert a.line("CPU µs/call") == "A (main): CPU µs/call 4.0 [1.0, 4.0, 5.0]"
    assert ratio_line(a, b, {"CPU µs/call": "CPU"}) == "B/A per round: CPU median 1.200"
    assert ratio_line(a, b, {"CPU µs/call": ""}, "2 values; ") == (
        "2 values; B/A per round: median 1.200"
    )
    same = identity(a, b)
    assert same.code == 0 and replies_differ(a, b) == 0
    assert same.line() == "replies identical: True (errors: 0); keys identical: True (1 keys)"


def test_different_replies_or_keys_or_an_error_exit_1() -> None:
    keys = {n: {b"k": 1} for n in NAMES}
    a, b, _ = run_sides({NAMES[0]: [1, 2], NAMES[1]: [1, 3]}, keys)
    assert identity(a, b).code == 1 and not identity(a, b).replies
    assert replies_differ(a, b) == 3  # one reply in each of three rounds
    assert identity(a, b).line("n: 2").startswith("replies identical: False (errors: 0, n: 2);")
    a, b, _ = run_sides({n: [1] for n in NAMES}, {NAMES[0]: {b"k": 1}, NAMES[1]: {b"k": 2}})
    assert identity(a, b).code == 1 and identity(a, b).replies and not identity(a, b).keys
    failed = ValueError("script error")
    a, b, _ = run_sides({n: [failed] for n in NAMES}, keys)
    assert identity(a, b).errors == 2 and identity(a, b).code == 1


def test_identity_needs_the_keys_snapshot() -> None:
    a, b = measure(NAMES, 1, lambda name, round_: Sample({"x": 1.0}, [1]))
    with pytest.raises(ValueError):
        identity(a, b)


def test_the_ratio_is_the_median_of_per_round_ratios() -> None:
    assert ratios([10.0, 20.0, 40.0], [9.0, 20.0, 20.0]) == 0.9
