"""The engine on real prompts (the project's corpus sample) through the real fingerprinter.

Behaviour over time decides, not the text: the same kind of prompt is harmless from a user
who revisits a few questions and harvest from a machine sweeping a corpus.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from gateway.clock import FakeClock
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.types import Assessment
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.limiter.memory import MemoryBudgetStore
from gateway.model import Identity, Level, RequestFeatures
from gateway.redis.keys import KeyBuilder
from loadtest.corpus import load_prompts

COT = (
    "Solve the following problem. Think step by step and show your reasoning.\n"
    "Problem: {q}\nAnswer:"
)


@pytest.fixture(scope="module")
def fingerprinter() -> Fingerprinter:
    return Fingerprinter()


def texts(file: str) -> list[str]:
    prompts = [p.text for p in load_prompts(files=[file], full=False)]  # the shipped sample
    assert len(prompts) >= 200
    return prompts


async def run(
    fingerprinter: Fingerprinter,
    requests: Iterable[tuple[float, str, RequestFeatures]],
    account: str = "acct",
) -> list[Assessment]:
    clock = FakeClock()
    engine = DetectionEngine(
        MemoryStateStore(clock), MemoryBudgetStore(clock), KeyBuilder("t"),
        DetectionPolicy, clock,
    )  # fmt: skip
    ident = Identity(account_id=account, tier=None)
    start = clock.now()
    out = []
    for t, text, features in requests:
        clock.set(start + t)
        fp = fingerprinter.fingerprint_text(text)
        a, _ = await engine.observe(ident, account, 1, fp, features, clock.now())
        out.append(a)
    return out


def machine(
    prompts: list[str],
    template: str = "{q}",
    max_tokens: int | None = 8192,
    interval: float = 20.0,
) -> list[tuple[float, str, RequestFeatures]]:
    rng = random.Random(1)
    features = RequestFeatures(endpoint="chat", model="m", max_tokens=max_tokens, turns=1)
    out, t = [], 0.0
    for q in prompts:
        t += interval * rng.uniform(0.97, 1.03)  # a machine's clock
        out.append((t, template.format(q=q), features))
    return out


def human(prompts: list[str], count: int, seed: int) -> list[tuple[float, str, RequestFeatures]]:
    """A person coming back to a handful of questions, with follow-ups and pauses."""
    rng = random.Random(seed)
    out, t = [], 9 * 3600.0
    for _ in range(count):
        t += rng.expovariate(1 / 120) + (rng.uniform(1800, 7200) if rng.random() < 0.1 else 0)
        if not 8 <= (t / 3600) % 24 < 22:
            t += ((8 - (t / 3600) % 24) % 24) * 3600
        features = RequestFeatures(endpoint="chat", model="m", turns=rng.randint(1, 6))
        out.append((t, rng.choice(prompts), features))
    return out


async def test_templated_cot_sweep_of_a_benchmark_is_challenged(
    fingerprinter: Fingerprinter,
) -> None:
    results = await run(fingerprinter, machine(texts("harvest_gsm8k.jsonl")[:200], COT))
    last = results[-1]
    assert last.level >= Level.CHALLENGE
    scores = {f.family: f.score for f in last.families}
    assert scores["templating"] > 0.8  # one frame, new question every time
    assert scores["elicitation"] > 0.8 and scores["coverage"] > 0.5
    first_throttle = next(i for i, a in enumerate(results) if a.level >= Level.THROTTLE)
    assert first_throttle >= 30  # not before min_requests


async def test_plain_sweep_of_synthetic_instructions_is_throttled_by_behaviour(
    fingerprinter: Fingerprinter,
) -> None:
    """No harvest-value signal (plain instructions, default length): behaviour alone, which
    an evaluation harness shares, throttles but never challenges."""
    prompts = texts("harvest_gpteacher_synthetic.jsonl")[:200]
    results = await run(fingerprinter, machine(prompts, max_tokens=None))
    last = results[-1]
    scores = {f.family: f.score for f in last.families}
    assert scores["elicitation"] < 0.3  # plain instructions, default length: no content signal
    assert scores["coverage"] > 0.5 and scores["timing"] > 0.8
    assert last.level == Level.THROTTLE
    assert any("no harvest-value signal" in r for r in last.reasons)
    # the same sweep asking for the maximum output is worth distilling once it has run like
    # a machine for a whole day (a nightly batch job asks for long outputs too): challenged
    long = await run(fingerprinter, machine(prompts, max_tokens=8192))
    assert long[-1].level == Level.THROTTLE
    day = await run(fingerprinter, machine(prompts, max_tokens=8192, interval=600.0))
    assert day[-1].level >= Level.CHALLENGE


@pytest.mark.parametrize("file", ["benign_arena_hard_user_prompts.jsonl",
                                  "benign_awesome_chatgpt_prompts.jsonl"])  # fmt: skip
async def test_people_revisiting_their_questions_are_left_alone(
    fingerprinter: Fingerprinter, file: str
) -> None:
    prompts = random.Random(3).sample(texts(file), 5)
    results = await run(fingerprinter, human(prompts, 300, seed=4))
    assert max(a.level for a in results) == Level.NONE


async def test_tutoring_app_with_cot_prompts_is_at_most_degraded(
    fingerprinter: Fingerprinter,
) -> None:
    curriculum = texts("harvest_gsm8k.jsonl")[:12]  # a class working through one problem set
    prompts = [COT.format(q=q) for q in curriculum]
    requests = [(t, text, RequestFeatures(endpoint="chat", model="m", max_tokens=1500, turns=1))
                for t, text, _ in human(prompts, 400, seed=5)]  # fmt: skip
    results = await run(fingerprinter, requests)
    assert max(a.level for a in results) <= Level.DEGRADE
    assert max(f.score for f in results[-1].families if f.family == "elicitation") > 0.8
