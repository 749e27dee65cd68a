"""The elicitation (value) family counts distillation-product asks (new items with solutions,
soft labels, programs, corrections: the product lexicon's score) only in the entity's own
sweep: single-turn requests whose prompts are never re-sent (detectors.product_part). An
honest product with the same asks (follow-ups, popular items asked again) keeps zero."""

from __future__ import annotations

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.types import EntityState, Finding
from gateway.model import Fingerprint, RequestFeatures

POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)
SINGLE = RequestFeatures("chat", "gpt-x")
FOLLOW_UP = RequestFeatures("chat", "gpt-x", turns=2)


def _fingerprint(exact: int, product: float) -> Fingerprint:
    return Fingerprint(exact, exact, 0, (0, 0, 0, 0), exact % 4096, 0, 30, 60, 0.0,
                       product=product)  # fmt: skip


async def _state(requests: list[tuple[int, float, RequestFeatures]]) -> EntityState:
    """(exact prompt, product score, features) per request, 40 s apart."""
    clock = FakeClock()
    store = MemoryStateStore(clock)
    state = EntityState(entity="a:x")
    for exact, product, features in requests:
        clock.advance(40.0)
        obs = observation(_fingerprint(exact, product), features, POLICY, clock.now())
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    return state


def _elicitation(state: EntityState) -> Finding:
    return next(f for f in detectors.assess(state, CTX) if f.family == "elicitation")


async def test_product_asks_in_a_sweep_are_a_value_signal() -> None:
    sweep = await _state([(i + 1, 0.55, SINGLE) for i in range(150)])
    found = _elicitation(sweep)
    assert found.score >= POLICY.value_min
    assert any(r.startswith("distillation-product asks mean 0.5") for r in found.reasons)
    assert all("Write" not in r and "problem" not in r for r in found.reasons)  # no prompt text
    # a sweep of bare tasks: no value signal
    assert _elicitation(await _state([(i + 1, 0.0, SINGLE) for i in range(150)])).score == 0.0


async def test_the_same_asks_from_an_honest_product_do_not_count() -> None:
    # a worksheet builder: a follow-up after one ask in four ("make them a bit easier")
    follow_ups = []
    for i in range(120):
        follow_ups.append((i + 1, 0.55, SINGLE))
        if i % 4 == 0:
            follow_ups.append((10_000 + i, 0.0, FOLLOW_UP))
    assert _elicitation(await _state(follow_ups)).score == 0.0
    # a "check my work" button on a popular exercise set: the same prompts again and again
    revisits = [(i % 40 + 1, 0.55, SINGLE) for i in range(150)]
    assert _elicitation(await _state(revisits)).score == 0.0
    # a product ask on one request in twenty: under PRODUCT_MEAN's low end
    sparse = [(i + 1, 0.55 if i % 20 == 0 else 0.0, SINGLE) for i in range(150)]
    assert _elicitation(await _state(sparse)).score == 0.0


async def test_the_gate_ramps_with_single_turn_and_never_seen_shares() -> None:
    sweep = await _state([(i + 1, 0.6, SINGLE) for i in range(150)])
    score, reason = detectors.product_part(sweep, CTX)
    assert score == 1.0
    assert "single-turn share 1.00, never-seen share 1.00" in reason
    # half of the prompts re-sent: never-seen share about 0.5, under PRODUCT_FRESH
    half = await _state([(i // 2 + 1, 0.6, SINGLE) for i in range(150)])
    assert half.share("nov_exact") < detectors.PRODUCT_FRESH[0]
    assert detectors.product_part(half, CTX)[0] == 0.0
