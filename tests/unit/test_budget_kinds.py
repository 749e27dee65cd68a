"""Budget kinds as strategy objects: one per algorithm, each owning its notation, plan,
script encoding, headers and refusal; the scripts keep one marked section per kind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from gateway.budgets.kind import Moment, Refusal
from gateway.budgets.registry import KINDS
from gateway.budgets.sections import Budgets
from gateway.budgets.templates import expand
from gateway.limiter.codec import ALGORITHM_CODES, SpecCodec, settlement_rows
from gateway.model import Algorithm, BudgetSpec, BudgetState, Charge, Settlement

LUA = Path(__file__).resolve().parents[2] / "gateway" / "limiter" / "lua"


def spec(algorithm: Algorithm, **fields: object) -> BudgetSpec:
    base: dict[str, object] = {
        "name": f"account:{algorithm}",
        "scope": "account",
        "unit": "requests",
        "algorithm": algorithm,
        "key": f"k:{algorithm}",
        "limit": 10,
        "window": 60.0,
    }
    return BudgetSpec(**{**base, **fields})  # type: ignore[arg-type]


def test_every_algorithm_has_one_kind_with_its_own_script_code() -> None:
    assert set(KINDS) == set(get_args(Algorithm))
    assert ALGORITHM_CODES == {"bucket": 0, "window": 1, "concurrency": 2, "novelty": 3}
    for name, kind in KINDS.items():
        assert kind.algorithm == name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_acquire_script_has_a_marked_section_per_kind(kind: str) -> None:
    script = (LUA / "acquire.lua").read_text()
    code = KINDS[kind].code  # type: ignore[index]
    assert re.search(rf"-- kind {kind} \(code {code}\): gateway/budgets/{kind}\.py", script)


def test_script_encoding_per_kind() -> None:
    codec = SpecCodec()
    bucket = spec("bucket", rate=5.0, throttleable=True)
    window = spec("window", throttleable=False)
    slots = spec("concurrency", unit="concurrency", throttleable=False, mode="shadow")
    novelty = spec("novelty", unit="diversity", repeat_cost=0.25, throttleable=False)
    assert codec.static(bucket) == "8,10,60.0,12.0,"
    assert codec.static(window) == "1,10,60.0,0.0,"
    assert codec.static(slots) == "6,10,60.0,0.0,"
    assert codec.static(novelty) == "3,10,60.0,0.0,250,"
    _, args = codec.acquire_args(
        (Charge(bucket, 3), Charge(novelty, 1, 42), Charge(novelty, 1)), (), (), b"", "r", 1.0, True
    )
    assert (
        args[-1]
        == "[3,0,0,1.0,1,-1,0,8,10,60.0,12.0,3,-1,3,10,60.0,0.0,250,42,3,10,60.0,0.0,250,-1]"
    )


def test_settlement_rows_only_for_kinds_that_reserve() -> None:
    bucket, window = spec("bucket", rate=5.0, unit="tokens"), spec("window", unit="tokens")
    slots = spec("concurrency", unit="concurrency")
    rows = settlement_rows(Settlement("r", ((bucket, -4), (window, 2), (slots, 1), (bucket, 0))))
    assert [(r.key, r.algorithm, r.step, r.delta) for r in rows] == [
        ("k:bucket", 0, 12.0, -4),
        ("k:window", 1, 60.0, 2),
    ]


def test_plan_charges_per_kind() -> None:
    tokens = spec("bucket", unit="tokens", rate=5.0, count="input")
    assert KINDS["bucket"].fixed_charge(spec("bucket", rate=5.0)) == Charge(
        spec("bucket", rate=5.0), 1
    )
    assert KINDS["bucket"].fixed_charge(tokens) is None
    assert KINDS["bucket"].charge(tokens, 7, 100, None) == Charge(tokens, 7)
    novelty = spec("novelty", unit="diversity")
    assert KINDS["novelty"].fixed_charge(novelty) is None
    assert KINDS["novelty"].charge(novelty, 7, 100, None) is None
    assert KINDS["novelty"].charge(novelty, 7, 100, 5) == Charge(novelty, 1, 5)
    slots = spec("concurrency", unit="concurrency")
    assert KINDS["concurrency"].fixed_charge(slots) == Charge(slots, 1)


def test_only_novelty_needs_the_prompt() -> None:
    assert {name for name, kind in KINDS.items() if kind.per_prompt} == {"novelty"}


def test_headers_only_for_bucket_and_window_kinds() -> None:
    assert {name for name, kind in KINDS.items() if kind.advertised} == {"bucket", "window"}
    assert KINDS["bucket"].header_window(spec("bucket", rate=5.0)) == 120  # 10 units at 5/min
    assert KINDS["window"].header_window(spec("window", window=86400.0)) == 86400


def test_each_kind_words_its_refusal() -> None:
    texts = {}
    for name, kind in KINDS.items():
        state = BudgetState(spec(name, rate=5.0), False, 0, 30.0, 30.0)
        error = kind.refusal(Refusal(state, "your account's", "requests", 30.0, {}))
        texts[name] = (error.message, error.code)
    assert texts["bucket"][0].startswith("Rate limit reached for your account's requests")
    assert texts["window"] == (
        "You exceeded your account's per-minute quota of 10 requests. It resets in 30s.",
        "insufficient_quota",
    )
    assert texts["concurrency"][0].startswith("Too many requests in flight")
    assert "different topics" in texts["novelty"][0]


def test_a_section_expands_in_kind_order() -> None:
    section = Budgets.model_validate(
        {
            "diversity": {"novel": "50/day"},
            "concurrency": 2,
            "quotas": ["100/day"],
            "tokens": "1000/minute",
            "requests": "5/minute",
        }
    )
    names = [t.name for t in expand(section, scope="account", source="tiers.free")]
    assert names == [
        "account:requests",
        "account:tokens",
        "account:quota:requests:day",
        "account:concurrency",
        "account:diversity",
    ]


GATEWAY = LUA.parents[1]


def test_only_the_kinds_branch_on_an_algorithm() -> None:
    """Adding a kind touches its strategy module, its Lua part and a test: no module
    outside ``gateway/budgets/`` compares a spec's algorithm with a kind's name (the memory
    store, the fail-open fallback, its seeds and the request validation ask ``KINDS``)."""
    branching = re.compile(r"\.algorithm\s*(==|!=|\bin\b|\bnot in\b)")
    found = [
        f"{path.relative_to(GATEWAY)}:{number}"
        for path in sorted(GATEWAY.rglob("*.py"))
        if "budgets" not in path.relative_to(GATEWAY).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if branching.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("algorithm", sorted(get_args(Algorithm)))
def test_every_kind_has_its_in_process_steps(algorithm: Algorithm) -> None:
    """The memory store and the fallback dispatch to the kind: each kind checks, commits and
    counts a charge itself (a kind without them would fail here, not in production)."""
    kind = KINDS[algorithm]
    budget = spec(algorithm, rate=5.0, repeat_cost=0.5)
    charge = Charge(budget, 1, 7 if kind.per_prompt else None)
    entries: dict[str, object] = {}
    at = Moment("r1", 100.0, False, 1.0)
    state, pending = kind.local_check(entries, charge, at)
    assert state.allowed
    assert kind.local_commit(entries, charge, at, pending) > 100.0
    assert budget.key in entries
    again, _ = kind.local_check(entries, charge, at)
    assert again.remaining <= state.remaining
    assert kind.fallback_cost(charge, False, 1.0) == 1
    assert kind.fallback_seconds(budget, 5, 1) > 0
