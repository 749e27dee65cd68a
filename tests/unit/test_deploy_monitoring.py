"""deploy/grafana and deploy/prometheus: every metric their PromQL names is exported by
``gateway.observability.metrics`` (or, for ``gateway detect``, ``gateway.sightings.metrics``),
with the labels the queries group and filter by."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from gateway.observability.metrics import Metrics
from gateway.sightings.metrics import DetectMetrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "distillguard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"

NAME = re.compile(r"\b(gateway_[a-z0-9_]+)\b")
BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
MATCHER = re.compile(r"([a-z_]+)\s*(?:=~|!~|!=|=)")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
TARGET_LABELS = {"instance", "job"}  # added by Prometheus at scrape time


def _collectors() -> list[Any]:
    """The gateway's metrics and the detect workers' (their own /metrics)."""
    return [*vars(Metrics()).values(), *vars(DetectMetrics(CollectorRegistry())).values()]


def _exported() -> dict[str, set[str]]:
    """Every sample name /metrics can show (a gateway's or a detect worker's), with labels."""
    names: dict[str, set[str]] = {}
    registry = CollectorRegistry()
    for collector in _collectors():
        if hasattr(collector, "_labelnames"):
            registry.register(collector)
    for family in registry.collect():
        collector_labels = _labels_of(family.name)
        for suffix in SUFFIXES[family.type]:
            extra = {"le"} if suffix == "_bucket" else set()
            names[family.name + suffix] = collector_labels | extra
    return names


def _labels_of(family: str) -> set[str]:
    for value in _collectors():
        if getattr(value, "_name", None) in (family, family.removesuffix("_total")):
            return set(value._labelnames)
    raise AssertionError(f"no collector for {family}")


def _dashboard_exprs() -> list[str]:
    dash: dict[str, Any] = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            exprs.append(var["definition"])
    return exprs


def _alert_exprs() -> list[str]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in doc["groups"] for rule in group["rules"]]


def _check(expr: str, exported: dict[str, set[str]]) -> None:
    names = NAME.findall(expr)
    assert names, f"no gateway metric in {expr!r}"
    unknown = [n for n in names if n not in exported]
    assert not unknown, f"not exported: {unknown} in {expr!r}"
    labels = set().union(*(exported[n] for n in names)) | TARGET_LABELS
    used = {label.strip() for group in BY.findall(expr) for label in group.split(",")}
    used |= set(MATCHER.findall(" ".join(re.findall(r"\{([^}]*)\}", expr))))
    used.discard("")
    assert used <= labels, f"labels {used - labels} not on {names} in {expr!r}"
    assert expr.count("(") == expr.count(")") and expr.count("[") == expr.count("]")


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_every_referenced_metric_is_exported(source: str) -> None:
    exported = _exported()
    exprs = _dashboard_exprs() if source == "dashboard" else _alert_exprs()
    assert exprs
    for expr in exprs:
        # Grafana's variables are not PromQL: $instance and $__rate_interval stand for values
        _check(expr.replace("$__rate_interval", "5m").replace("$instance", ".*"), exported)


def test_the_check_catches_a_wrong_name_and_a_wrong_label() -> None:
    exported = _exported()
    with pytest.raises(AssertionError, match="not exported"):
        _check("rate(gateway_request_total[5m])", exported)
    with pytest.raises(AssertionError, match="labels"):
        _check("sum by (budget) (rate(gateway_refusals_total[5m]))", exported)


def test_dashboard_covers_what_operators_watch() -> None:
    text = " ".join(_dashboard_exprs())
    for metric in (
        "gateway_requests_total",
        "gateway_request_duration_seconds_bucket",
        "gateway_refusals_total",
        "gateway_detection_level_changes_total",
        "gateway_store_breaker_open",
        "gateway_policy_reloads_total",
        "gateway_policy_reload_errors_total",
        "gateway_store_ping_seconds",
    ):
        assert metric in text
    assert "decision" in text


def test_alerts_cover_breaker_reload_errors_and_refusal_spikes() -> None:
    doc = yaml.safe_load(ALERTS.read_text())
    rules = {r["alert"]: r for group in doc["groups"] for r in group["rules"]}
    assert {
        "DistillGuardStoreBreakerOpen",
        "DistillGuardPolicyReloadErrors",
        "DistillGuardRefusalSpike",
    } <= set(rules)
    for rule in rules.values():
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"]
