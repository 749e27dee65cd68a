"""Redis memory per active account-day (``loadtest.redis_memory``): a short simulated day of
the kit's traffic through the real stores, every key grouped and counted."""

from __future__ import annotations

import pytest

from gateway.redis.keys import KeyBuilder
from loadtest.redis_memory import SIZES, compare, day, group_of, render, shape_of, ttl_minutes

pytestmark = pytest.mark.redis


def test_every_key_the_layout_builds_has_its_group() -> None:
    keys = KeyBuilder("p")
    built = {
        keys.account_budget("c1", "a1", "account:requests"): "account budgets",
        keys.cluster_budget("c1", "cluster:tokens"): "cluster budgets",
        keys.account_level("c1", "a1"): "levels and clearances",
        keys.cluster_level("c1"): "levels and clearances",
        keys.account_clearance("c1", "a1"): "levels and clearances",
        keys.global_budget("gpt-4*", "requests"): "global budgets",
        keys.cluster_graph() + ":e:a|b": "cluster graph",
        keys.cluster_pairs(3) + ":a:a1": "linker observations",
        keys.cluster_values(5) + ":s": "linker values",
        keys.cluster_values(5) + ":v:template:ab12": "linker values",
        keys.detection("a:a1", "exact", "3"): "detection state",
        keys.detection("a:a1", "co", "mates"): "co-activity meetings",
        keys.detection("a:a1", "co", "starts"): "co-activity episodes",
        keys.subsystem_entity("detco", "5900000"): "co-activity buckets",
        keys.detection_template("t1"): "template fan-out",
        keys.seen("a1"): "last seen",
        keys.pow_used("j1"): "proof-of-work guards",
    }
    assert {key: group_of(key, "p") for key in built} == built
    assert shape_of(keys.account_budget("c1", "a1", "account:quota:day"), "p") == (
        "{c:*}:a:*:account:quota:day"
    )
    assert shape_of(keys.detection("a:a1", "exact", "17"), "p") == "{det:*}:exact:N"
    assert shape_of(keys.cluster_pairs(3) + ":m:a1|b2", "p") == "{xp:*}:m:<pair>"
    assert shape_of(keys.cluster_graph() + ":m:a1", "p") == "{x:*}:g:m:aN"


async def test_a_short_day_counts_every_store(redis_url: str) -> None:
    report = await day(redis_url, SIZES["tiny"], seed=1, max_seconds=120)
    print("\n" + render(report))
    groups = report["groups"]
    assert report["active_accounts"] == groups["last seen"]["keys"] > 0
    for name in ("account budgets", "detection state", "linker values", "last seen"):
        assert groups[name]["keys"] > 0 and groups[name]["bytes_per_account"] > 0
    total = sum(g["bytes_per_account"] for g in groups.values())
    assert report["bytes_per_active_account_day"] == pytest.approx(total, abs=1)
    assert report["million_accounts_gb"] == pytest.approx(total * 1e6 / 1e9, rel=0.01)
    assert report["million_accounts_per_account_gb"] < report["million_accounts_gb"]
    assert 0 < report["short_lived_bytes"] < report["bytes_per_active_account_day"]
    assert report["long_lived_bytes"] == pytest.approx(
        report["bytes_per_active_account_day"] - report["short_lived_bytes"], abs=0.2
    )
    side_by_side = compare(report, report).splitlines()
    assert any(line.startswith("account budgets") for line in side_by_side)
    assert side_by_side[-1].split()[-2:] == [f"{report['bytes_per_active_account_day']:.0f}"] * 2
    # the TTL left per key shape: the last-seen record lives 90 days, the state hash a window
    ttls = {shape: g["ttl_hours"] for shape, g in report["shapes"].items()}
    assert ttls.get("{seen:*}", 90 * 24) > 80 * 24
    assert 0 < ttls["{det:*}:s"] <= 24
    assert "TTL left h" in render(report)
    # the diversity bitmap (2^14 cells) is the largest budget key: at most 2 KiB plus headers
    diversity = report["shapes"].get("{c:*}:a:*:account:diversity")
    assert diversity is not None and diversity["bytes_per_key"] <= 4096


def test_the_ttl_of_a_shape_is_the_median_left() -> None:
    assert ttl_minutes([60_000, 120_000, 7_200_000]) == 2
    assert ttl_minutes([-1, -1, 60_000]) == -1  # most have none
    assert ttl_minutes([]) == -1
