"""The elicitation (value) family reads request structure: trace schemas and worked-answer
histories that change per request, reasoning effort, seeded resampling; a product's fixed
schema or exemplar set is not evidence (detectors.structure_parts)."""

from __future__ import annotations

import random
from dataclasses import replace

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.types import EntityState, Finding
from gateway.model import Fingerprint, RequestFeatures

POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)
PLAIN = RequestFeatures("chat", "gpt-x")


def _fingerprint(i: int) -> Fingerprint:
    return Fingerprint(i, i, 0, (0, 0, 0, 0), i % 4096, 0, 30, 60, 0.0)


async def _state(features: list[RequestFeatures]) -> EntityState:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    state = EntityState(entity="a:x")
    for i, f in enumerate(features):
        clock.advance(40.0)
        obs = observation(_fingerprint(i + 1), f, POLICY, clock.now())
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    return state


def _elicitation(state: EntityState) -> Finding:
    return next(f for f in detectors.assess(state, CTX) if f.family == "elicitation")


def _prints(seed: int, count: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(1, 1 << 16) for _ in range(count)]


async def test_a_changing_trace_schema_is_a_value_signal_a_fixed_one_is_not() -> None:
    changing = await _state([replace(PLAIN, trace_schema=p) for p in _prints(1, 120)])
    fixed = await _state([replace(PLAIN, trace_schema=4242)] * 120)
    plain = await _state([PLAIN] * 120)
    found = _elicitation(changing)
    assert found.score >= 0.6
    assert any(r.startswith("trace-schema share 1.00") for r in found.reasons), found.reasons
    assert detectors.structure_variety(changing) > 0.7
    assert detectors.structure_variety(fixed) == 0.0
    assert _elicitation(fixed).score == 0.0
    assert _elicitation(plain).score == 0.0


async def test_worked_answers_before_new_tasks_count_and_are_new_asks() -> None:
    changing = [replace(PLAIN, turns=3, worked_history=p) for p in _prints(2, 120)]
    app = [replace(PLAIN, turns=4, worked_history=777)] * 120  # fixed exemplars
    state = await _state(changing)
    found = _elicitation(state)
    assert found.score >= 0.6
    assert any("worked-answer history share" in r for r in found.reasons)
    assert _elicitation(await _state(app)).score == 0.0
    # the new ask after exemplars is a new task (shape, coverage), not a follow-up
    assert state.share("single") == 1.0
    conversation = await _state([replace(PLAIN, turns=3)] * 120)
    assert conversation.share("single") == 0.0


async def test_reasoning_effort_and_seeded_resampling_are_value_signals() -> None:
    for features in (replace(PLAIN, reasoning=True), replace(PLAIN, resample=True)):
        found = _elicitation(await _state([features] * 120))
        assert found.score >= 0.6, found
    # on one request in ten: under the share where it starts to count
    sparse = [replace(PLAIN, reasoning=i % 10 == 0) for i in range(120)]
    assert _elicitation(await _state(sparse)).score == 0.0
