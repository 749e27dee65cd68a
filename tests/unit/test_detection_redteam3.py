"""Red-team round 3's scenarios do what their names say (traffic only, no gateway)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from functools import cache

import pytest

from loadtest.detection.__main__ import main
from loadtest.detection.context import Context
from loadtest.detection.evaluate import START
from loadtest.detection.pace import hour_of
from loadtest.detection.pools import load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.redteam3_harvest import QUILL, SAMPLES
from loadtest.detection.scenarios import FULL, QUICK, Plan, build
from loadtest.detection.traffic import DAY, Account, Request

MAX_OUTPUT = 4000  # the policy reference's default maximum-output mark


@cache
def context() -> Context:
    pools = load_pools("reporting")
    return Context(pools=pools, start=START, days=FULL.days, cap=FULL.cap, scale=FULL.scale)


def traffic(scenario: str, limit: int = 5000) -> list[tuple[Account, list[tuple[float, Request]]]]:
    return [(acc, drive(acc, fn, context(), limit)) for acc, fn in build(FULL, only={scenario})]


def user(request: Request) -> str:
    return str(request.body["messages"][-1]["content"])


def first_user(request: Request) -> str:
    return str(next(m for m in request.body["messages"] if m["role"] == "user")["content"])


def test_resampler_asks_few_tasks_many_times() -> None:
    for acc, sent in traffic("red3_resampler")[:3]:
        pool = set(context().pools.harvest)
        asked = Counter(next(t for t in pool if t in first_user(r)) for _, r in sent)
        assert len(sent) == acc.planned
        assert len(asked) == -(-acc.planned // SAMPLES)
        assert max(asked.values()) == SAMPLES
        assert all(r.harvest and r.body["temperature"] >= 0.6 for _, r in sent)


def test_reasoning_model_sends_bare_tasks_without_reasoning_words() -> None:
    pool = set(context().pools.harvest)
    for _, sent in traffic("red3_reasoning_model")[:3]:
        for _, r in sent:
            assert [m["role"] for m in r.body["messages"]] == ["user"]
            assert user(r) in pool
            assert r.body["reasoning_effort"] == "high"
            assert "max_tokens" not in r.body
            assert r.body["max_completion_tokens"] < MAX_OUTPUT


def test_window_hopper_sessions_stay_under_min_requests_and_idle_past_a_day() -> None:
    for acc, sent in traffic("red3_window_hopper")[:5]:
        times = [t for t, _ in sent]
        sessions, size = [], 1
        for a, b in itertools.pairwise(times):
            if b - a > DAY:
                sessions.append(size)
                size = 1
            else:
                assert b - a <= 90
                size += 1
        sessions.append(size)
        assert len(sessions) >= 5
        assert max(sessions) <= 32 < 40
        assert sum(r.harvest for _, r in sent) == len(sent) <= acc.planned


def test_app_cover_hides_tasks_in_its_users_stream() -> None:
    for _, sent in traffic("red3_app_cover")[:3]:
        assert all(r.body["messages"][0]["content"] == QUILL for _, r in sent)
        share = sum(r.harvest for _, r in sent) / len(sent)
        assert 0.3 < share < 0.5


def test_packer_packs_four_to_six_tasks_below_the_maximum_output() -> None:
    for _, sent in traffic("red3_packer")[:3]:
        for _, r in sent:
            numbers = re.findall(r"^(\d)\. ", user(r), flags=re.MULTILINE)
            assert 4 <= len(numbers) <= 6 and numbers[0] == "1"
            assert r.body["max_tokens"] < MAX_OUTPUT


def test_launder_puts_every_task_behind_a_few_standing_interests() -> None:
    benign = context().pools.benign
    for _, sent in traffic("red3_launder")[:3]:
        heads = {
            next(b for b in benign if first_user(r).startswith(b[:600]))[:600] for _, r in sent
        }
        assert len(heads) <= 20  # 2-4 interests, a new one one time in fifty
        assert 0.6 < sum(r.harvest for _, r in sent) / len(sent) < 0.9


def test_support_desks_of_one_company_share_an_org_and_cover_the_clock() -> None:
    desks = traffic("red3_support_desk")
    orgs = Counter(acc.attrs["org_id"] for acc, _ in desks)
    assert list(orgs.values()) == [3, 3]
    company = [sent for acc, sent in desks if acc.attrs["org_id"] == "red3-desk-0"]
    hours = {int(hour_of(t)) for sent in company for t, _ in sent}
    assert hours == set(range(24))


def test_ablation_lab_reruns_one_small_set_with_n_samples() -> None:
    for _, sent in traffic("red3_ablation_lab"):
        pool = context().pools.harvest
        asked = {next(t for t in pool if t in user(r)) for _, r in sent}
        assert len(asked) <= 50 < len(sent) / 4
        assert all(r.body["n"] == (5 if r.body["temperature"] else 1) for _, r in sent)


def test_label_startup_one_template_never_a_repeat() -> None:
    for _, sent in traffic("red3_label_startup")[:2]:
        texts = [user(r) for _, r in sent][: len(context().pools.benign)]
        assert len(set(texts)) == len(texts) >= 150  # the sample's 182 reporting prompts
        assert all(2 <= hour_of(t) < 3 or 14 <= hour_of(t) < 15 for t, _ in sent)


def test_course_students_ask_the_same_problems() -> None:
    students = traffic("red3_mooc_student")
    pool = context().pools.harvest
    by_course: dict[int, set[str]] = {0: set(), 1: set()}
    for n, (acc, sent) in enumerate(students):
        assert acc.tier == "free"
        by_course[n // 20] |= {next(t for t in pool if t in first_user(r)) for _, r in sent}
    assert all(len(problems) <= 24 for problems in by_course.values())


def test_only_selects_round_3_scenarios() -> None:
    picked = {acc.scenario for acc, _ in build(QUICK, only=frozenset({"red3_packer"}))}
    assert picked == {"red3_packer"}
    assert main(["--quick", "--only", "red3_no_such_strategy"]) == 2


@pytest.mark.parametrize("plan", [FULL, QUICK])
def test_every_round_3_scenario_is_in_the_plans(plan: Plan) -> None:
    names = {acc.scenario for acc, _ in build(plan) if acc.scenario.startswith("red3_")}
    assert len(names) == 11
