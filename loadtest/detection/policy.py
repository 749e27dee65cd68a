"""The evaluation policy: the operator policy's ``detection`` and ``clusters`` sections, with
account budgets so generous that they never stop anybody (the kit measures what DETECTION
does; any budget 429 that still happens is counted separately).

Cluster budgets are those the operator policy gives a cluster: its explicit
``clusters.budgets`` entries, and for every other tier an entry of that tier's shipped account
budgets (what a cluster of n > 1 gets, times f(n), without an entry). A refusal by the
budget of a cluster linked by soft evidence only is harm to an honest account, and the kit
counts it (see ``metrics.harmed``) — unless the pool was drained by accounts over their own
plans (``own_plan``): the shipped account budgets (requests, tokens, quotas, concurrency,
diversity) run beside the generous ones in shadow mode, as a per-account ``models: "*"``
section (:data:`OWN_BUDGETS`), and say when an account alone would have been refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

OWN_BUDGETS = "model[*]:"  # name prefix of the shadow copies of the shipped account budgets
OWN_KINDS = ("requests", "tokens", "quotas", "concurrency", "diversity")

GENEROUS_BUDGETS: dict[str, Any] = {
    "requests": {"rate": "100000/minute", "burst": 100000},
    "tokens": {"rate": "1000000000/hour", "burst": 1000000000},
    "concurrency": 10000,
}


def read_document(path: Path) -> dict[str, Any]:
    """The policy document at ``path`` (a file, or the merged ``*.yaml`` files of a folder)."""
    files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
    document: dict[str, Any] = {}
    for file in files:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{file}: expected a mapping")
        document.update(loaded)
    return document


def evaluation_document(source: dict[str, Any]) -> dict[str, Any]:
    """``source`` with every budget made generous; detection and clustering kept as they are."""
    tiers = dict(source.get("tiers") or {"pro": {}})
    clusters = dict(source.get("clusters") or {})
    clusters["budgets"] = cluster_budgets(tiers, clusters)
    doc: dict[str, Any] = {
        "version": source.get("version", 1),
        "mode": "enforce",
        "defaults": {**(source.get("defaults") or {}), "failure_mode": "open"},
        "tiers": {name: dict(GENEROUS_BUDGETS) for name in tiers},
        "clusters": clusters,
        "models": {"*": own_budgets(tiers)},
    }
    if "detection" in source:
        doc["detection"] = source["detection"]
    return doc


def cluster_budgets(tiers: dict[str, Any], clusters: dict[str, Any]) -> dict[str, Any]:
    """The shipped cluster budgets as explicit entries: each tier's own entry, else ("*", else)
    the tier's shipped account budgets (scaled by f(n) only with ``scale_explicit``, as the
    implicit entry is; without it the implicit budgets are not simulated)."""
    explicit = dict(clusters.get("budgets") or {})
    if not clusters.get("scale_explicit", False) or "*" in explicit:
        return explicit
    out = dict(explicit)
    for name, budgets in tiers.items():
        if name not in out and isinstance(budgets, dict):
            out[name] = {k: v for k, v in budgets.items() if k != "mode"}
    return out


def own_budgets(tiers: dict[str, Any]) -> dict[str, Any]:
    """Each tier's shipped account budgets in shadow mode (per account, every model): what
    the account alone would have been refused by (detection keeps its own topic cells: these
    budgets' novelty cells change no detection input)."""
    out: dict[str, Any] = {}
    for name, budgets in tiers.items():
        if isinstance(budgets, dict):
            kept = {k: v for k, v in budgets.items() if k in OWN_KINDS}
            out[name] = {**kept, "mode": "shadow"}
    return out


def write_evaluation_policy(source: Path, folder: Path) -> Path:
    """Write the evaluation policy derived from ``source`` into ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "evaluation.yaml"
    text = yaml.safe_dump(evaluation_document(read_document(source)), sort_keys=False)
    target.write_text(text, encoding="utf-8")
    return target


def detection_section(source: Path) -> dict[str, Any]:
    """The ``detection`` section of the policy at ``source`` (empty: the built-in defaults)."""
    section = read_document(source).get("detection") or {}
    return dict(section) if isinstance(section, dict) else {}
