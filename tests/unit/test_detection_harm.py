"""The kit's harm metric: any detection level, any degraded response, any refusal by a
soft-only cluster's budget harms a benign account; the headline shows the worst persona."""

from __future__ import annotations

from loadtest.detection.metrics import harmed, summarise
from loadtest.detection.policy import cluster_budgets, evaluation_document
from loadtest.detection.runner import record
from loadtest.detection.traffic import Account, Outcome, Record, Request


def _rec(name: str, scenario: str = "tutoring_app", role: str = "benign") -> Record:
    return Record(Account(name, scenario, role, 1, "10.0.0.1"))  # type: ignore[arg-type]


def test_each_kind_of_harm_counts() -> None:
    clean, degraded, soft, throttled, hard_429 = (_rec(n) for n in "abcde")
    record(clean, Request({}), Outcome(200))
    record(degraded, Request({}), Outcome(200, degraded=True))
    record(soft, Request({}), Outcome(429, soft_cluster_refused=True))
    record(throttled, Request({}), Outcome(200, level=1))
    record(hard_429, Request({}), Outcome(429))  # an account's own budget: not harm
    assert [harmed(r) for r in (clean, degraded, soft, throttled, hard_429)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_headline_has_the_pooled_and_the_worst_persona_rate() -> None:
    records = [_rec(f"c{i}", "casual_chat") for i in range(9)] + [_rec("t0"), _rec("t1")]
    for r in records:
        record(r, Request({}), Outcome(200))
    record(records[-1], Request({}), Outcome(429, soft_cluster_refused=True))
    harvester = _rec("h", "cot_template", "harvest")
    record(harvester, Request({}, harvest=True), Outcome(200, level=3))
    result = summarise([*records, harvester])
    assert result["benign_harmed_rate"] == 1 / 11
    assert result["benign_harmed_rate_worst_persona"] == 0.5
    assert result["benign_harmed_worst_persona"] == "tutoring_app"
    assert result["benign_throttled_rate"] == 0.0  # the old headline missed it


def test_the_kit_keeps_the_shipped_cluster_budgets() -> None:
    tiers = {"free": {"requests": "20/minute"}, "pro": {"requests": "600/minute", "mode": "x"}}
    explicit = {"free": {"requests": "40/minute"}}
    clusters = {"budgets": explicit, "scale_explicit": True}
    assert cluster_budgets(tiers, clusters) == {**explicit, "pro": {"requests": "600/minute"}}
    doc = evaluation_document({"tiers": tiers, "clusters": clusters})
    assert doc["clusters"]["budgets"]["free"] == explicit["free"]
    assert doc["tiers"]["free"]["requests"]["rate"] == "100000/minute"  # accounts: generous
