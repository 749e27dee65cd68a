"""The structural evidence probe (round 19) computes what its table says."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from loadtest.structure_probe import (
    Account,
    Stream,
    auc,
    combined_auc,
    dataset_stats,
    first_asks,
    follow_stats,
    probe,
    streams,
    table,
)


def _chat(*turns: str) -> dict[str, Any]:
    messages: list[dict[str, str]] = []
    for i, text in enumerate(turns):
        if i:
            messages.append({"role": "assistant", "content": "the answer about apples"})
        messages.append({"role": "user", "content": text})
    return {"model": "m", "messages": messages}


def test_follow_up_statistics_of_a_small_stream() -> None:
    stream: Stream = [
        (0.0, _chat("why are apples red")),
        (10.0, _chat("why are apples red", "tell me more about apples")),
        (100.0, _chat("how do pears grow")),
        (130.0, _chat("how do pears grow", "tell me more about apples")),
    ]
    s = follow_stats(stream)
    assert s["single"] == 0.5
    assert s["wait"] == 20.0  # 10 s and 30 s before the two follow-ups
    assert s["stock"] == 0.5  # the second follow-up repeats the first after another ask
    assert s["answer_overlap"] == 0.4  # "about", "apples" of 5 words
    assert math.isclose(s["ask_overlap"], (1 / 5 + 0 / 5) / 2)  # "apples", then nothing


def test_a_stream_without_follow_ups_has_no_follow_up_statistics() -> None:
    s = follow_stats([(0.0, _chat("one")), (5.0, _chat("two"))])
    assert s["single"] == 1.0
    assert math.isnan(s["wait"]) and math.isnan(s["stock"])
    assert first_asks([(0.0, _chat("one")), (1.0, _chat("one", "two"))]) == ["one"]


def test_dataset_statistics_self_similarity_and_discrepancy() -> None:
    same = np.tile(np.array([[1.0, 0.0]]), (4, 1))
    spread = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert dataset_stats(same, same) == {"self_sim": 1.0, "mmd": 0.0}
    away = dataset_stats(same, spread)
    assert away["self_sim"] == 1.0
    assert math.isclose(away["mmd"], 1.0 - 1.0 / 3.0)  # the spread's own mean is -1/3


def test_auc_and_the_separation_verdict() -> None:
    assert auc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert auc([1.0], [1.0]) == 0.5
    assert math.isnan(auc([], [1.0]))
    rows = [
        {"account": "h", "scenario": "h", "role": "harvest", "single": 1.0},
        {"account": "b", "scenario": "b", "role": "benign", "single": 0.2},
    ]
    lines = table(rows)
    assert "| single | 1.00 .. 1.00 | 0.20 .. 0.20 | yes | 1.00 |" in lines
    assert "| wait | - | - | no | nan |" in lines


def test_probe_on_kit_streams_gives_a_row_per_account() -> None:
    accounts = streams("tuning", ["red8_code_explain"], limit=80)
    assert len({a.name for a in accounts}) == len(accounts) > 0
    assert all(a.role == "harvest" and len(a.stream) == 80 for a in accounts)
    rows = probe(accounts)
    assert [r["account"] for r in rows] == [a.name for a in accounts]
    assert all(0.0 <= r["single"] <= 1.0 and "self_sim" in r for r in rows)
    empty = probe([Account("x", "s", "benign", [])])
    assert empty == []


def test_combined_auc_holds_out_whole_scenarios() -> None:
    rows: list[dict[str, Any]] = []
    for k, (role, single) in enumerate(
        (("harvest", 0.9), ("harvest", 0.8), ("benign", 0.3), ("benign", 0.2))
    ):
        for i in range(5):
            wait = float(i)  # the same in every scenario: no information
            rows.append(
                {"scenario": f"s{k}", "role": role, "single": single + i / 100, "wait": wait}
            )
    assert combined_auc(rows) == 1.0
    for r in rows:
        r["single"] = 0.5
    assert combined_auc(rows) == 0.5  # nothing to learn: every held-out score ties
