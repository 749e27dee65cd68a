"""The policy compiled once per version: per-tier detection, fingerprint need, templates and
bound plans, all read from one object that a reload replaces whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gateway.model import Identity
from gateway.policy.compiled import CompiledPolicy
from gateway.policy.loader import LoadedPolicy, load_policy
from gateway.proxy.context import RequestContext
from gateway.proxy.planner import Planner
from gateway.redis.keys import KeyBuilder

NO_LINKS = {"clusters": {"link_on": {"soft": ["ip_prefix"]}}}


def policy(tmp_path: Path, document: dict[str, Any], name: str = "p") -> LoadedPolicy:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **document}))
    return load_policy(path)


def context(tier: str, account: str = "a", cluster: str = "a") -> RequestContext:
    ctx = RequestContext(request_id="r", started=0.0, now=0.0, path="/v1/chat/completions")
    ctx.identity, ctx.tier, ctx.cluster_id, ctx.cluster_size = (
        Identity(account, tier),
        tier,
        cluster,
        1,
    )
    return ctx


def test_tiers_compile_their_detection_overrides(tmp_path: Path) -> None:
    loaded = policy(
        tmp_path,
        {
            "tiers": {"free": {}, "internal": {}, "audit": {}},
            "detection": {
                "tiers": {"internal": {"enabled": False}, "audit": {"mode": "shadow"}},
            },
            **NO_LINKS,
        },
    )
    compiled = loaded.compiled
    free, internal, audit = (compiled.tier(t) for t in ("free", "internal", "audit"))
    assert free.detection == loaded.policy.detection.for_tier("free")
    assert (free.enforce_levels, free.fingerprint) == (True, True)
    assert (internal.enforce_levels, internal.fingerprint) == (False, False)
    assert (audit.enforce_levels, audit.fingerprint) == (False, True)  # shadow still observes
    assert compiled.tier("free") is free  # compiled once


def _internal_without_detection(
    tmp_path: Path, clusters: dict[str, Any], name: str = "p"
) -> CompiledPolicy:
    """Tiers free and internal (the default), detection off for internal."""
    document = {
        "defaults": {"tier": "internal"},
        "tiers": {"free": {}, "internal": {}},
        "detection": {"tiers": {"internal": {"enabled": False}}},
        **clusters,
    }
    return policy(tmp_path, document, name=name).compiled


def test_fingerprint_need_of_unknown_or_missing_tiers_is_the_default_tiers(
    tmp_path: Path,
) -> None:
    compiled = _internal_without_detection(tmp_path, NO_LINKS)
    assert compiled.needs_fingerprint("free")
    assert not compiled.needs_fingerprint("internal")
    assert not compiled.needs_fingerprint(None) and not compiled.needs_fingerprint("gold")


def test_only_the_frame_is_needed_where_linking_alone_reads_fingerprints(
    tmp_path: Path,
) -> None:
    """Template links with detection off for a tier: the frame only; detection on: the
    whole; neither: nothing. A tier the policy does not name keeps the whole fingerprint
    whenever it needs one (the detection engine reads such a tier on its own)."""
    links = {"clusters": {"link_on": {"soft": ["template"]}}}
    compiled = _internal_without_detection(tmp_path, links, name="links")
    assert compiled.fingerprint_need("free") == "whole"
    assert compiled.fingerprint_need("internal") == "frame"
    assert compiled.fingerprint_need(None) == compiled.fingerprint_need("gold") == "whole"
    assert compiled.needs_fingerprint("internal")
    quiet = policy(tmp_path, {"tiers": {"free": {}}, **NO_LINKS}, name="q").compiled
    assert quiet.fingerprint_need("free") == "whole"
    off = {"tiers": {"free": {}}, "detection": {"enabled": False}}
    assert policy(tmp_path, {**off, **NO_LINKS}, name="n").compiled.fingerprint_need("free") == (
        "none"
    )
    assert policy(tmp_path, {**off, **links}, name="l").compiled.fingerprint_need("free") == (
        "frame"
    )


def test_a_diversity_budget_in_any_section_computes_everyones_cell(tmp_path: Path) -> None:
    """A novelty budget needs the cell on the request path; the whole fingerprint (after the
    response) only detection and template links need."""
    base: dict[str, Any] = {"tiers": {"free": {}}, "detection": {"enabled": False}, **NO_LINKS}
    assert not policy(tmp_path, base).compiled.needs_cell("free")
    sections: list[dict[str, Any]] = [
        {"models": {"gpt-*": {"*": {"diversity": {"novel": "50/day"}}}}},
        {"routes": {"/v1/*": {"free": {"diversity": {"novel": "50/day"}}}}},
    ]
    for index, extra in enumerate(sections):
        loaded = policy(tmp_path, {**base, **extra}, name=f"s{index}")
        assert loaded.compiled.needs_cell("free"), extra
        assert not loaded.compiled.needs_fingerprint("free"), extra
    clustered = {
        **base,
        "clusters": {
            "link_on": {"soft": ["ip_prefix"]},
            "budgets": {"free": {"diversity": {"novel": "9/day"}}},
        },
    }
    assert policy(tmp_path, clustered, name="c").compiled.needs_cell("free")


def test_level_keys_are_bound_only_where_levels_are_enforced(tmp_path: Path) -> None:
    loaded = policy(
        tmp_path,
        {
            "tiers": {"free": {"requests": "5/minute"}, "internal": {}},
            "detection": {"tiers": {"internal": {"enabled": False}}},
        },
    )
    planner = Planner(KeyBuilder("t"), shadow=False)
    free = planner.plan(loaded, context("free"))
    internal = planner.plan(loaded, context("internal"))
    assert free.level_keys == ("t:{c:a}:lvl:a:a", "t:{c:a}:lvl:c")
    assert internal.level_keys == ()
    assert free.clearance_keys == internal.clearance_keys == ("t:{c:a}:clr:a:a",)


def test_a_reload_starts_from_a_new_compiled_policy(tmp_path: Path) -> None:
    first = policy(tmp_path, {"tiers": {"free": {"requests": "5/minute"}}}, name="one")
    second = policy(tmp_path, {"tiers": {"free": {"requests": "7/minute"}}}, name="two")
    planner = Planner(KeyBuilder("t"), shadow=False)
    limits = [planner.plan(p, context("free")).charges[0].budget.limit for p in (first, second)]
    assert limits == [5, 7]
    assert first.compiled is not second.compiled


def test_templates_honour_the_global_shadow_override(tmp_path: Path) -> None:
    loaded = policy(tmp_path, {"tiers": {"free": {"requests": "5/minute"}}})
    enforce = loaded.compiled.templates("free", "m", "/v1/x", 1, shadow=False)
    shadow = loaded.compiled.templates("free", "m", "/v1/x", 1, shadow=True)
    assert [t.mode for t in enforce] == ["enforce"] and [t.mode for t in shadow] == ["shadow"]


def test_soft_linked_clusters_get_their_own_templates_and_plans(tmp_path: Path) -> None:
    """Soft links alone scale a cluster's budgets by n (not f(n)): the compiled memo keeps
    soft and hard clusters apart, for templates and for bound plans."""
    loaded = policy(tmp_path, {"tiers": {"free": {"requests": "10/minute"}}})
    hard = loaded.compiled.templates("free", "m", "/v1/x", 4, shadow=False)
    soft = loaded.compiled.templates("free", "m", "/v1/x", 4, shadow=False, soft=True)
    assert [t.limit for t in hard if t.scope == "cluster"] == [20]  # sqrt(4) x 10
    assert [t.limit for t in soft if t.scope == "cluster"] == [40]  # 4 x 10
    planner = Planner(KeyBuilder("t"), shadow=False)
    limits = []
    for linked_softly in (False, True):
        ctx = context("free", cluster="org")
        ctx.cluster_size, ctx.cluster_soft = 4, linked_softly
        plan = planner.plan(loaded, ctx)
        limits.append([c.budget.limit for c in plan.charges if c.budget.scope == "cluster"])
    assert limits == [[20], [40]]
