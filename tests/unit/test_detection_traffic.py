"""Synthetic traffic for the detection tests (helpers; a few sanity tests of the generators).

Personas produce (time offset, Fingerprint, RequestFeatures) sequences with the behaviour the
issue describes: ordinary users revisit a few topics, follow up and pause; tutoring apps ask
for step-by-step reasoning on a moderate set of subjects; harvesters sweep novel topics with
templated single-turn prompts at maximum output on a machine-regular clock.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.model import Fingerprint, RequestFeatures

Event = tuple[float, Fingerprint, RequestFeatures]


def fingerprint(
    rng: random.Random, *, cell: int, skeleton: int | None = None, elicitation: float = 0.0
) -> Fingerprint:
    exact = rng.getrandbits(64)
    skel = rng.getrandbits(64) if skeleton is None else skeleton
    return Fingerprint(
        exact=exact,
        skeleton=skel,
        simhash=skel,
        bands=(skel & 0xFFFF, (skel >> 16) & 0xFFFF, (skel >> 32) & 0xFFFF, skel >> 48),
        cell=cell,
        system=0,
        words=40,
        est_tokens=60,
        elicitation=elicitation,
        frame=skeleton or 0,  # a shared template is a frame around a changing body
    )


@dataclass(frozen=True)
class Persona:
    """Parameters of one kind of caller."""

    topics: int  # distinct semantic cells it draws from (0: a fresh cell every time)
    templates: int  # distinct skeletons (0: a fresh skeleton every time)
    elicitation: float  # fingerprint elicitation score
    single_turn: float  # probability a request is single-turn
    max_tokens: int | None
    logprobs: float  # probability of logprobs=true
    regular: bool  # fixed inter-arrival with small jitter (else human bursts and pauses)
    interval: float  # mean seconds between requests while active
    diurnal: bool = True  # sleeps at night


HONEST = Persona(4, 0, 0.02, 0.3, None, 0.0, False, 90.0)
TUTOR = Persona(12, 0, 0.8, 0.9, 1500, 0.0, False, 60.0)
EVAL_PIPELINE = Persona(0, 0, 0.05, 1.0, 256, 0.0, True, 30.0, diurnal=False)
HARVESTER = Persona(0, 3, 0.85, 1.0, 8192, 0.3, True, 20.0, diurnal=False)


def events(persona: Persona, count: int, seed: int, start_hour: float = 9.0) -> Iterator[Event]:
    """``count`` requests of ``persona`` with time offsets in seconds from the start."""
    rng = random.Random(seed)
    topics = [rng.getrandbits(20) for _ in range(persona.topics)]
    templates = [rng.getrandbits(64) for _ in range(persona.templates)]
    t = start_hour * 3600.0
    for _ in range(count):
        if persona.regular:
            t += persona.interval * rng.uniform(0.95, 1.05)
        else:
            gap = rng.expovariate(1.0 / persona.interval)
            if rng.random() < 0.08:  # a coffee break
                gap += rng.uniform(600, 3600)
            t += gap
            hour = (t / 3600.0) % 24
            if persona.diurnal and not 8 <= hour < 22:  # sleep until 8 the next morning
                t += ((8 - hour) % 24) * 3600.0
        cell = rng.choice(topics) if topics else rng.getrandbits(20)
        skeleton = rng.choice(templates) if templates else None
        fp = fingerprint(rng, cell=cell, skeleton=skeleton, elicitation=persona.elicitation)
        single = rng.random() < persona.single_turn
        features = RequestFeatures(
            endpoint="chat",
            model="m",
            max_tokens=persona.max_tokens,
            logprobs=rng.random() < persona.logprobs,
            turns=1 if single else rng.randint(2, 6),
        )
        yield t, fp, features


def test_harvester_sweeps_cells_and_honest_revisits() -> None:
    honest = {fp.cell for _, fp, _ in events(HONEST, 200, 1)}
    harvest = {fp.cell for _, fp, _ in events(HARVESTER, 200, 1)}
    assert len(honest) <= HONEST.topics
    assert len(harvest) > 190


def test_diurnal_persona_sleeps() -> None:
    hours = {int((t / 3600) % 24) for t, _, _ in events(HONEST, 2000, 2)}
    assert hours.isdisjoint({0, 1, 2, 3, 4, 5, 6, 7})
    machine = {int((t / 3600) % 24) for t, _, _ in events(HARVESTER, 5000, 2)}
    assert len(machine) == 24
