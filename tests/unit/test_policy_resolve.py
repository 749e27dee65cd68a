"""Which budgets apply: effective numbers, modes, globs, cluster growth, binding."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gateway.limiter.keys import KeyBuilder
from gateway.policy.resolve import effective_tier, resolve
from gateway.policy.schema import Policy
from gateway.policy.templates import BudgetTemplate


def make(**sections: Any) -> Policy:
    doc: dict[str, Any] = {
        "version": 1,
        "tiers": {
            "free": {
                "requests": "5/minute",
                "tokens": {"rate": "20000/hour", "burst": 4000},
                "quotas": ["200/day", {"limit": "1000000/month", "unit": "tokens"}],
                "concurrency": 2,
                "diversity": {"novel": "300/day", "repeat_cost": 0.2, "action": "refuse"},
            },
            "pro": {"requests": {"rate": "600/minute", "burst": 100}, "mode": "shadow"},
        },
    }
    doc.update(sections)
    return Policy.model_validate(doc)


def by_name(templates: tuple[BudgetTemplate, ...]) -> dict[str, BudgetTemplate]:
    named = {t.name: t for t in templates}
    assert len(named) == len(templates), "budget names must be unique per request"
    return named


def test_account_budgets_have_the_effective_numbers() -> None:
    budgets = by_name(resolve(make(), tier="free"))
    assert list(budgets) == [
        "account:requests",
        "account:tokens",
        "account:quota:requests:day",
        "account:quota:tokens:month",
        "account:concurrency",
        "account:diversity",
    ]
    requests = budgets["account:requests"]
    assert (requests.algorithm, requests.limit, requests.rate, requests.window) == (
        "bucket",
        5,
        5.0,
        60.0,
    )
    tokens = budgets["account:tokens"]
    assert (tokens.unit, tokens.limit, tokens.rate, tokens.window) == ("tokens", 4000, 20000, 3600)
    day = budgets["account:quota:requests:day"]
    assert (day.algorithm, day.limit, day.window, day.throttleable) == ("window", 200, 86400, False)
    month = budgets["account:quota:tokens:month"]
    assert (month.unit, month.limit, month.window) == ("tokens", 1_000_000, 30 * 86400)
    slots = budgets["account:concurrency"]
    assert (slots.algorithm, slots.limit, slots.window) == ("concurrency", 2, 60.0)
    novel = budgets["account:diversity"]
    assert (novel.algorithm, novel.limit, novel.window) == ("novelty", 300, 86400)
    assert (novel.repeat_cost, novel.action) == (0.2, "refuse")
    assert {t.mode for t in budgets.values()} == {"enforce"}
    assert requests.source == "tiers.free.requests" and slots.source == "tiers.free.concurrency"


def test_unknown_or_missing_tier_gets_the_default_tier() -> None:
    policy = make()
    assert effective_tier(policy, None) == effective_tier(policy, "gold") == "free"
    assert resolve(policy, tier="gold") == resolve(policy, tier="free") == resolve(policy)


def test_shadow_anywhere_above_wins() -> None:
    policy = make(models={"gpt-4*": {"free": {"tokens": "100/hour", "mode": "shadow"}}})
    assert {t.mode for t in resolve(policy, tier="pro")} == {"shadow"}  # tier mode
    free = by_name(resolve(policy, tier="free", model="gpt-4o"))
    assert free["model[gpt-4*]:tokens"].mode == "shadow"  # section mode
    assert free["account:requests"].mode == "enforce"
    assert {t.mode for t in resolve(policy, tier="free", shadow=True)} == {"shadow"}  # override
    whole = make(mode="shadow")
    assert {t.mode for t in resolve(whole, tier="free")} == {"shadow"}  # policy mode


def test_a_budget_mode_shadows_only_that_budget() -> None:
    policy = make(
        tiers={"free": {"requests": {"rate": "5/minute", "mode": "shadow"}, "quotas": ["10/day"]}}
    )
    budgets = by_name(resolve(policy))
    assert budgets["account:requests"].mode == "shadow"
    assert budgets["account:quota:requests:day"].mode == "enforce"


def test_model_globs_tier_entries_and_star() -> None:
    policy = make(
        models={
            "gpt-4*": {"free": {"tokens": "5000/hour"}, "*": {"tokens": "90000/hour"}},
            "gpt-4o*": {"*": {"requests": "50/minute"}},
            "claude-*": {"pro": {"requests": "1/second"}},
        }
    )
    free = by_name(resolve(policy, tier="free", model="gpt-4o-mini"))
    assert free["model[gpt-4*]:tokens"].limit == 5000  # the tier's own entry beats "*"
    assert free["model[gpt-4o*]:requests"].limit == 50  # every matching glob applies
    assert free["model[gpt-4*]:tokens"].scope == "model"
    pro = by_name(resolve(policy, tier="pro", model="gpt-4"))
    assert pro["model[gpt-4*]:tokens"].limit == 90000
    assert not any(t.scope == "model" for t in resolve(policy, tier="free", model="claude-3"))
    assert not any(t.scope == "model" for t in resolve(policy, tier="free", model="GPT-4"))
    assert not any(t.scope == "model" for t in resolve(policy, tier="free", model=None))


def test_route_and_global_budgets() -> None:
    policy = make(
        routes={"/v1/embeddings": {"*": {"requests": {"rate": "600/minute", "burst": 60}}}},
        **{"global": {"gpt-4*": {"requests": {"rate": "6000/minute", "burst": 1000}}}},
    )
    budgets = by_name(resolve(policy, tier="free", model="gpt-4o", route="/v1/embeddings"))
    route = budgets["route[/v1/embeddings]:requests"]
    assert (route.scope, route.limit, route.rate) == ("route", 60, 600)
    shared = budgets["global[gpt-4*]:requests"]
    assert (shared.scope, shared.limit, shared.throttleable, shared.header) == (
        "global",
        1000,
        False,
        False,
    )
    assert list(budgets)[-1] == "global[gpt-4*]:requests"
    other = by_name(resolve(policy, tier="free", model="mock", route="/v1/chat/completions"))
    assert not any(name.startswith(("route", "global")) for name in other)


@pytest.mark.parametrize("members", [2, 4, 9, 50])
def test_default_cluster_budget_grows_with_sqrt_of_members(members: int) -> None:
    budgets = by_name(resolve(make(), tier="free", cluster_size=members))
    factor = math.sqrt(members)
    requests = budgets["cluster:requests"]
    assert requests.scope == "cluster" and requests.scale == pytest.approx(factor)
    assert requests.limit == math.ceil(5 * factor - 1e-9)
    assert requests.rate == pytest.approx(5 * factor) and requests.window == 60
    assert budgets["cluster:quota:requests:day"].limit == math.ceil(200 * factor - 1e-9)
    assert budgets["cluster:diversity"].limit == math.ceil(300 * factor - 1e-9)
    # splitting into n accounts multiplies the total by n, the cluster allowance by sqrt(n)
    assert requests.rate < 5 * members


def test_no_cluster_budget_for_a_solitary_account_or_when_disabled() -> None:
    assert not any(t.scope == "cluster" for t in resolve(make(), cluster_size=1))
    off = make(clusters={"enabled": False})
    assert not any(t.scope == "cluster" for t in resolve(off, cluster_size=10))


def test_other_growth_functions() -> None:
    linear = by_name(resolve(make(clusters={"growth": "linear"}), cluster_size=4))
    assert linear["cluster:requests"].rate == pytest.approx(20)
    none = by_name(resolve(make(clusters={"growth": "none"}), cluster_size=4))
    assert none["cluster:requests"].rate == pytest.approx(5)


def test_explicit_cluster_budgets_fixed_or_scaled() -> None:
    budgets = {"free": {"requests": {"rate": "40/minute", "burst": 20}}, "*": {"quotas": ["9/day"]}}
    fixed = make(clusters={"budgets": budgets})
    at_one = by_name(resolve(fixed, tier="free", cluster_size=1))
    assert at_one["cluster:requests"].limit == 20  # explicit: applies at any size
    at_nine = by_name(resolve(fixed, tier="free", cluster_size=9))
    assert [n for n in at_nine if n.startswith("cluster")] == ["cluster:requests"]
    assert at_nine["cluster:requests"].source == "clusters.budgets.free.requests"
    assert (at_nine["cluster:requests"].limit, at_nine["cluster:requests"].rate) == (20, 40)
    pro = by_name(resolve(fixed, tier="pro", cluster_size=9))
    assert pro["cluster:quota:requests:day"].limit == 9  # "*" for tiers without an entry
    scaled = make(clusters={"budgets": budgets, "scale_explicit": True})
    grown = by_name(resolve(scaled, tier="free", cluster_size=9))["cluster:requests"]
    assert (grown.limit, grown.rate, grown.scale) == (60, pytest.approx(120), pytest.approx(3))


def test_bind_and_store_keys() -> None:
    policy = make(**{"global": {"gpt-4*": {"requests": "10/second"}}})
    budgets = by_name(resolve(policy, tier="free", model="gpt-4o", cluster_size=4))
    keys = KeyBuilder("dg")
    tokens = budgets["account:tokens"]
    spec = tokens.bind(tokens.store_key(keys, cluster_id="c1", account_id="a1"))
    assert spec.key == "dg:{c:c1}:a:a1:account:tokens"
    assert (spec.name, spec.scope, spec.unit, spec.algorithm) == (
        "account:tokens",
        "account",
        "tokens",
        "bucket",
    )
    assert (spec.limit, spec.rate, spec.window, spec.mode, spec.count) == (
        4000,
        20000,
        3600,
        "enforce",
        "total",
    )
    cluster = budgets["cluster:requests"]
    assert (
        cluster.store_key(keys, cluster_id="c1", account_id="a1") == "dg:{c:c1}:c:cluster:requests"
    )
    shared = budgets["global[gpt-4*]:requests"]
    assert shared.store_key(keys, cluster_id="c1", account_id="a1") == "dg:{g:gpt-4*}:requests"
    novel = budgets["account:diversity"].bind("k")
    assert (novel.algorithm, novel.repeat_cost, novel.limit) == ("novelty", 0.2, 300)


def test_token_count_is_carried_to_the_spec() -> None:
    policy = make(models={"o*": {"*": {"tokens": {"rate": "1000/hour", "count": "output"}}}})
    template = by_name(resolve(policy, model="o3"))["model[o*]:tokens"]
    assert template.count == "output" and template.bind("k").count == "output"


@pytest.mark.parametrize("members", [2, 4, 9, 20])
def test_a_soft_linked_cluster_gets_what_its_members_would_have_alone(members: int) -> None:
    """Soft links alone (network, template, timing) never shrink the members' budgets:
    n x the budgets, where a hard-linked cluster gets f(n) x."""
    budgets = {"free": {"requests": {"rate": "40/minute", "burst": 20}}}
    for clusters in ({}, {"budgets": budgets}, {"budgets": budgets, "scale_explicit": True}):
        policy = make(clusters=clusters)
        alone = by_name(resolve(policy, tier="free", cluster_size=1)).get("cluster:requests")
        soft = by_name(resolve(policy, tier="free", cluster_size=members, soft_cluster=True))
        hard = by_name(resolve(policy, tier="free", cluster_size=members))
        base = alone.rate if alone is not None else 5.0  # no entry: the account budget
        assert soft["cluster:requests"].rate == pytest.approx(members * base)
        assert hard["cluster:requests"].rate < soft["cluster:requests"].rate
