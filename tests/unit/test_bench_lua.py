"""loadtest.bench_lua: the scripts it sends are the ones the gateway registers."""

from __future__ import annotations

from gateway.limiter.redis_store import PRELUDE, SCRIPTS
from gateway.redis.keys import KeyBuilder
from gateway.redis.scripts import ScriptRegistry
from loadtest.bench_lua import budgets, script_text


def test_this_checkouts_scripts_are_the_registered_ones() -> None:
    registry = ScriptRegistry("gateway.limiter", SCRIPTS, prelude=PRELUDE)
    for name in ("acquire", "settle"):
        assert script_text(name, None) == registry[name].text


def test_a_commits_scripts_come_from_git() -> None:
    assert script_text("settle", "HEAD").startswith("-- now.lua")


def test_the_request_is_the_tiers_budgets_only() -> None:
    specs = budgets(KeyBuilder("x"), "a1")
    assert [s.algorithm for s in specs] == ["bucket", "bucket", "concurrency", "bucket"]
    assert len({s.key for s in specs}) == 4
