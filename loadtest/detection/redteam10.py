"""Red-team round 10's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one product's key (the voice app, the CRM, the copy tool) or one person's key
(the chat front end's user).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam10_harvest import (
    entity_labels,
    if_constraints,
    piggyback,
    pref_pairs,
    voice_task,
)
from loadtest.detection.redteam10_personas import (
    auto_title,
    copy_tool,
    crm_extractor,
    voice_notes,
)


@dataclass(frozen=True, slots=True)
class Red10Plan:
    """Sizes of round 10's scenarios (0 leaves one out)."""

    labellers: int = 0  # entity labels: passages, a fixed extraction ask, JSON mode ...
    labelled: int = 400  # ... this many each (disjoint slices of the corpus)
    speakers: int = 0  # tasks as recordings beside a short text ask ...
    spoken: int = 400  # ... this many each
    constrainers: int = 0  # real prompts with checkable constraints ...
    constrained: int = 350  # ... this many each (disjoint slices)
    pairers: int = 0  # a correct and a convincing flawed answer per request ...
    pairs: int = 350  # ... this many each
    volunteers: int = 0  # volunteers' keys: the extension's tasks after the person's own ...
    piggybacked: int = 120  # ... at most this many each (the person's days bound it)
    voice_apps: int = 0
    crms: int = 0
    copy_tools: int = 0
    front_ends: int = 0


RED10_NONE = Red10Plan()
RED10_FULL = Red10Plan(
    labellers=5,
    speakers=5,
    constrainers=5,
    pairers=5,
    volunteers=10,
    voice_apps=3,
    crms=3,
    copy_tools=3,
    front_ends=3,
)
RED10_QUICK = Red10Plan(
    labellers=1,
    labelled=40,
    speakers=1,
    spoken=30,
    constrainers=1,
    constrained=30,
    pairers=1,
    pairs=30,
    volunteers=1,
    piggybacked=30,
    voice_apps=1,
    front_ends=1,
)


def populate10(red: Red10Plan, add: Callable[..., Any]) -> None:
    """Add round 10's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red10_entity_labels", red.labellers, entity_labels, red.labelled),
        ("red10_voice_task", red.speakers, voice_task, red.spoken),
        ("red10_if_constraints", red.constrainers, if_constraints, red.constrained),
        ("red10_pref_pairs", red.pairers, pref_pairs, red.pairs),
        ("red10_piggyback", red.volunteers, piggyback, red.piggybacked),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for scenario, count, persona in (
        ("red10_voice_notes", red.voice_apps, voice_notes),
        ("red10_crm_extractor", red.crms, crm_extractor),
        ("red10_copy_tool", red.copy_tools, copy_tool),
        ("red10_auto_title", red.front_ends, auto_title),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
