"""Red-team round 4's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, own client stack, no payment, org or device);
``eval_tier`` accounts are on the ``evaluation`` tier (what a distiller posing as an
evaluation vendor is given), the rest on the kit's default tier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam4_harvest import (
    agent_loop,
    completions,
    eval_tier,
    exemplar,
    multilingual,
    schema,
    schema_sweep,
    socratic,
)
from loadtest.detection.redteam4_personas import (
    coding_agent,
    few_shot_app,
    json_extractor,
    native_tutor,
    polyglot_fleet,
    socratic_tutor,
)


@dataclass(frozen=True, slots=True)
class Red4Plan:
    """Sizes of round 4's scenarios (0 leaves one out)."""

    schemas: int = 0  # reasoning requested through a JSON schema or a forced tool call
    sweeps: int = 0  # the same at machine pace, 24/7 ...
    sweep_tasks: int = 3000  # ... this many responses each
    exemplars: int = 0  # earlier worked answers as history, bare new task
    linguists: int = 0  # CoT sweep with the elicitation in another language
    socratics: int = 0  # one task per conversation, a move at a time ...
    socratic_tasks: int = 400  # ... finished traces each account tries to extract
    agents: int = 0  # agent trajectories (each step a harvest response)
    raw: int = 0  # CoT asks as raw chat-template prompts to /v1/completions
    eval_tiers: int = 0  # a CoT sweep on the evaluation tier ...
    eval_tier_tasks: int = 1500  # ... this many responses each
    tasks: int = 600  # harvest responses each other strategy's account tries to extract
    extractors: int = 0
    native_tutors: int = 0
    coding_agents: int = 0
    few_shot_apps: int = 0
    socratic_tutors: int = 0
    fleets: int = 0


RED4_NONE = Red4Plan()
RED4_FULL = Red4Plan(
    schemas=10,
    sweeps=3,
    exemplars=10,
    linguists=8,
    socratics=6,
    agents=8,
    raw=8,
    eval_tiers=3,
    extractors=6,
    native_tutors=4,
    coding_agents=6,
    few_shot_apps=8,
    socratic_tutors=4,
    fleets=5,
)
RED4_QUICK = Red4Plan(
    schemas=2,
    sweeps=1,
    sweep_tasks=300,
    exemplars=2,
    linguists=2,
    socratics=2,
    socratic_tasks=40,
    agents=2,
    raw=2,
    eval_tiers=1,
    eval_tier_tasks=150,
    tasks=80,
    extractors=1,
    native_tutors=1,
    coding_agents=2,
    few_shot_apps=2,
    socratic_tutors=1,
    fleets=1,
)


def populate4(red: Red4Plan, add: Callable[..., Any]) -> None:
    """Add round 4's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red4_schema", red.schemas, schema, red.tasks),
        ("red4_schema_sweep", red.sweeps, schema_sweep, red.sweep_tasks),
        ("red4_exemplar", red.exemplars, exemplar, red.tasks),
        ("red4_multilingual", red.linguists, multilingual, red.tasks),
        ("red4_socratic", red.socratics, socratic, red.socratic_tasks),
        ("red4_agent_loop", red.agents, agent_loop, red.tasks),
        ("red4_completions", red.raw, completions, red.tasks),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for _ in range(red.eval_tiers):
        add("red4_eval_tier", "harvest", eval_tier, planned=red.eval_tier_tasks, tier="evaluation")
    for scenario, count, persona in (
        ("red4_json_extractor", red.extractors, json_extractor),
        ("red4_native_tutor", red.native_tutors, native_tutor),
        ("red4_coding_agent", red.coding_agents, coding_agent),
        ("red4_few_shot_app", red.few_shot_apps, few_shot_app),
        ("red4_socratic_tutor", red.socratic_tutors, socratic_tutor),
        ("red4_polyglot_fleet", red.fleets, polyglot_fleet),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
