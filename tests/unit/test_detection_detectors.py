"""Detector families on synthetic behaviour (states built by the memory state store)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from test_detection_traffic import (
    EVAL_PIPELINE,
    HARVESTER,
    HONEST,
    TUTOR,
    Persona,
    events,
    fingerprint,
)

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.types import EntityState, Observation
from gateway.model import RequestFeatures

POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)


async def state_after(persona: Persona, count: int, seed: int = 11) -> EntityState:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    start = clock.now()
    state = EntityState(entity="a:x")
    for t, fp, features in events(persona, count, seed):
        clock.set(start + t)
        obs = observation(fp, features, POLICY, clock.now())
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    return state


def family(state: EntityState, name: str, ctx: detectors.Context = CTX) -> float:
    return next(f.score for f in detectors.assess(state, ctx) if f.family == name)


async def test_no_score_without_enough_evidence() -> None:
    state = await state_after(HARVESTER, 29)
    assert all(f.score == 0 for f in detectors.assess(state, CTX))
    assert detectors.confidence(state, CTX) == 0
    state = await state_after(HARVESTER, 60)
    assert detectors.confidence(state, CTX) == pytest.approx(60 / 90)
    assert all(f.score > 0.5 for f in detectors.assess(state, CTX))


async def test_coverage_sweep_versus_revisits() -> None:
    harvester = await state_after(HARVESTER, 300)
    honest = await state_after(HONEST, 300)
    tutor = await state_after(TUTOR, 300)
    assert family(harvester, "coverage") > 0.8
    assert family(honest, "coverage") < 0.1
    assert family(tutor, "coverage") < 0.2
    assert honest.novelty_ewma < 0.1  # novelty flattens for revisiting users


async def test_templating_same_skeleton_new_content() -> None:
    harvester = await state_after(HARVESTER, 200)
    assert family(harvester, "templating") > 0.8
    assert any("templated share" in r for f in detectors.assess(harvester, CTX) for r in f.reasons)
    no_templates = await state_after(replace(HARVESTER, templates=0), 200)
    assert family(no_templates, "templating") == 0


async def test_a_template_that_opens_conversations_is_not_slot_filling() -> None:
    """The harvester's template in a stream where students ask back (follow-ups on 45 % of
    requests: a homework app's own template) does not count; with one follow-up in ten, it
    still does."""
    talking = await state_after(replace(HARVESTER, single_turn=0.55), 200)
    assert talking.share("tpl") > 0.4 and family(talking, "templating") < 0.5
    mostly_single = await state_after(replace(HARVESTER, single_turn=0.9), 200)
    assert family(mostly_single, "templating") > 0.5


async def test_template_fan_out_counts() -> None:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    rng = random.Random(5)
    state = EntityState(entity="a:x")
    for i in range(60):
        clock.advance(30)
        obs = Observation(
            cell=rng.getrandbits(14),
            skeleton=rng.getrandbits(64),  # never repeats within the account
            exact=rng.getrandbits(64),
            elicitation=0.0,
            params=False,
            single_turn=False,
            max_output=False,
            fanout=i % 2 == 0,  # ... but half are skeletons many accounts send
        )
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    assert state.share("fan") == pytest.approx(0.5, abs=0.05)
    assert family(state, "templating") > 0.3


async def test_elicitation_content_signals() -> None:
    tutor = await state_after(TUTOR, 200)
    honest = await state_after(HONEST, 200)
    assert family(tutor, "elicitation") > 0.9
    assert family(honest, "elicitation") < 0.05
    logprobs_only = replace(HONEST, logprobs=0.5)
    assert family(await state_after(logprobs_only, 200), "elicitation") > 0.9
    machine_max = replace(HARVESTER, elicitation=0.0, logprobs=0.0, interval=600.0)
    assert family(await state_after(machine_max, 200), "elicitation") > 0.9


async def test_maximum_output_counts_only_from_machine_like_senders() -> None:
    """A person (bursts and pauses) asking for long answers is no harvest-value signal."""
    human_max = replace(HONEST, single_turn=1.0, max_tokens=8000)
    state = await state_after(human_max, 200)
    assert state.share("maxout") > 0.9
    assert detectors.machine(state, CTX) < 0.1
    assert family(state, "elicitation") < 0.05


async def test_shape_single_turn_without_follow_ups() -> None:
    assert family(await state_after(HARVESTER, 200), "shape") > 0.9
    assert family(await state_after(HONEST, 200), "shape") == 0


async def test_timing_regular_versus_human() -> None:
    regular = await state_after(EVAL_PIPELINE, 200)
    human = await state_after(HONEST, 200)
    cv = (human.iat_var**0.5) / human.iat_mean
    assert cv > 1.0  # bursts and pauses
    assert family(regular, "timing") > 0.9
    assert family(human, "timing") < 0.1


async def test_no_diurnal_pause_needs_a_day_of_history() -> None:
    # irregular arrivals (no CV signal) around the clock for two days
    persona = replace(HONEST, diurnal=False, interval=300.0, single_turn=0.0)
    day = await state_after(persona, 80)
    assert day.last_seen - day.first_seen < detectors.DIURNAL_SPAN
    assert not any("of the last 24 h" in r for f in detectors.assess(day, CTX) for r in f.reasons)
    long = await state_after(persona, 700)
    assert long.active_hours == 24
    assert family(long, "timing") > 0.9


async def test_cluster_synchrony_only_for_clusters() -> None:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    rng = random.Random(3)
    state = EntityState(entity="c:x")
    for i in range(100):
        clock.advance(0.5 if i % 4 else rng.uniform(60, 600))  # bursts of 4 members
        obs = Observation(
            cell=i % 5, skeleton=i % 5, exact=rng.getrandbits(64), elicitation=0.0,
            params=False, single_turn=False, max_output=False, member=f"m{i % 4}",
        )  # fmt: skip
        state = await store.observe("c:x", obs, clock.now(), window=86400, half_life=21600)
    assert state.share("sync") > 0.5
    as_cluster = detectors.Context(min_requests=30, cluster=True)
    assert family(state, "timing", as_cluster) > family(state, "timing", CTX)


def test_entropy_bounds() -> None:
    assert detectors.entropy((10,) + (0,) * 31) == 0
    assert detectors.entropy((5,) * 32) == pytest.approx(1.0)
    assert detectors.entropy(()) == 0


def _obs(rng: random.Random, elicitation: float = 0.0) -> Observation:
    return Observation(
        cell=rng.getrandbits(14),
        skeleton=rng.getrandbits(64),
        exact=rng.getrandbits(64),
        elicitation=elicitation,
        params=False,
        single_turn=True,
        max_output=True,
    )


async def test_nightly_batch_is_not_machine_like() -> None:
    """60 regular requests at 01:00 every night: regular inside the burst, paused all day."""
    clock = FakeClock()
    store = MemoryStateStore(clock)
    rng = random.Random(3)
    start = clock.now() - clock.now() % 86400 + 3600
    state = EntityState(entity="a:x")
    for night in range(4):
        clock.set(start + night * 86400)
        for _ in range(60):
            clock.advance(rng.uniform(3.0, 4.0))
            obs = _obs(rng)
            state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    assert state.share("maxout") > 0.9
    assert state.active_hours <= 1
    assert detectors.machine(state, CTX) == 0
    assert family(state, "elicitation") == 0


async def test_one_unusual_prompt_after_a_pause_does_not_make_a_value_signal() -> None:
    """After a day's pause the decayed counters hold a few requests; the lexicon share is
    pulled toward the base rate instead of jumping on one CoT-worded prompt."""
    clock = FakeClock()
    store = MemoryStateStore(clock)
    rng = random.Random(4)
    state = EntityState(entity="a:x")
    for _ in range(100):
        clock.advance(4.0)
        state = await store.observe("a:x", _obs(rng), clock.now(), window=86400, half_life=21600)
    clock.advance(23 * 3600)
    for value in (1.0, 0.0, 0.0):
        clock.advance(4.0)
        obs = _obs(rng, elicitation=value)
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    assert state.share("elic") > 0.1  # the raw decayed share jumped
    lexicon = detectors.shrunk(state, "elic", detectors.LEXICON_PRIOR, CTX.min_requests / 2)
    assert lexicon < 0.06
    assert family(state, "elicitation") < 0.1


async def _office_hours_state(per_hour: float, hours: int) -> EntityState:
    """Heavy-tailed (human-looking) gaps from 07:00 to 23:00, ``hours`` hours of activity."""
    clock = FakeClock()
    store = MemoryStateStore(clock)
    rng = random.Random(8)
    t0 = clock.now() - clock.now() % 86400 + 7 * 3600
    state, t, active = EntityState(entity="a:x"), t0, 0.0
    while active < hours * 3600:
        gap = rng.lognormvariate(0.0, 0.8) * 3600 / per_hour / 1.377
        t, active = t + gap, active + gap
        if (t - t0) % 86400 >= 16 * 3600:  # sleep until 07:00
            t += 86400 - (t - t0) % 86400
        clock.set(t)
        state = await store.observe("a:x", _obs(rng), clock.now(), window=86400, half_life=21600)
    return state


async def test_sustained_volume_of_one_account_counts_as_timing() -> None:
    """Human-looking gaps, but about 100 requests an hour for 16 hours: no person types that."""
    busy = await _office_hours_state(100.0, 40)
    cv = (busy.iat_var**0.5) / busy.iat_mean
    assert cv > 0.6  # the gaps themselves look human
    assert busy.active_hours >= 14
    assert family(busy, "timing") >= 0.5
    assert any("sustained volume" in r for f in detectors.assess(busy, CTX) for r in f.reasons)
    person = await _office_hours_state(10.0, 40)
    assert family(person, "timing") < 0.1
    cluster = detectors.Context(min_requests=30, cluster=True)
    assert not any("sustained" in r for f in detectors.assess(busy, cluster) for r in f.reasons)


def test_short_outputs_discount_chain_of_thought_wording() -> None:
    rng = random.Random(6)
    fp = fingerprint(rng, cell=1, elicitation=0.8)
    small = RequestFeatures(endpoint="chat", model="m", max_tokens=64)
    large = RequestFeatures(endpoint="chat", model="m", max_tokens=1024)
    unset = RequestFeatures(endpoint="chat", model="m")
    assert observation(fp, small, POLICY, 0.0).elicitation == pytest.approx(0.8 * 64 / 256)
    assert observation(fp, large, POLICY, 0.0).elicitation == pytest.approx(0.8)
    assert observation(fp, unset, POLICY, 0.0).elicitation == pytest.approx(0.8)
    off = DetectionPolicy.model_validate({"tuning": {"reasoning_min_tokens": 0}})
    assert observation(fp, small, off, 0.0).elicitation == pytest.approx(0.8)
