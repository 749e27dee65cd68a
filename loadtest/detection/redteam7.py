"""Red-team round 7's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, own client stack, no payment, org or device):
the relay squad's members and the drip's throw-away accounts too (nothing links them but
the squad's plan); a look-alike product's account is one company's key, except the support
desk's agents (freelancers, each with a personal key at home).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam7_harvest import (
    drip_member,
    next_step,
    pairwise_pref,
    relay_member,
    revisit_cover,
    tool_calls,
)
from loadtest.detection.redteam7_personas import (
    ab_judge,
    handoff_member,
    hint_button,
    tool_assistant,
)


@dataclass(frozen=True, slots=True)
class Red7Plan:
    """Sizes of round 7's scenarios (0 leaves one out)."""

    judges: int = 0  # the task and two candidate replies: "A or B?"
    callers: int = 0  # the bare task beside an API catalogue with a calculator
    steppers: int = 0  # one single-turn request per step of a trace ...
    step_tasks: int = 150  # ... this many whole traces each
    relays: int = 0  # members of one relay squad (turns of a task from different members) ...
    relay_tasks: int = 170  # ... this many finished traces each (three requests a task)
    revisiters: int = 0  # reasoning asks with follow-ups, revisits of earlier tasks as cover
    revisit_tasks: int = 300  # new tasks each revisiter harvests
    drips: int = 0  # throw-away accounts, eight born together, two-turn asks ...
    drip_tasks: int = 30  # ... this many each (under min_requests)
    tasks: int = 500  # harvest responses each other strategy's account tries to extract
    ab_judges: int = 0
    assistants: int = 0
    hints: int = 0
    desk: int = 0  # agents of one support desk


RED7_NONE = Red7Plan()
RED7_FULL = Red7Plan(
    judges=5,
    callers=5,
    steppers=5,
    relays=5,
    revisiters=5,
    drips=40,
    ab_judges=3,
    assistants=3,
    hints=3,
    desk=3,
)
RED7_QUICK = Red7Plan(
    judges=1,
    callers=1,
    steppers=1,
    step_tasks=6,
    relays=3,
    relay_tasks=5,
    revisiters=1,
    revisit_tasks=15,
    drips=3,
    drip_tasks=10,
    tasks=20,
    hints=1,
)


def populate7(red: Red7Plan, add: Callable[..., Any]) -> None:
    """Add round 7's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red7_pairwise_pref", red.judges, pairwise_pref, red.tasks),
        ("red7_tool_calls", red.callers, tool_calls, red.tasks),
        ("red7_next_step", red.steppers, next_step, red.step_tasks),
        ("red7_revisit_cover", red.revisiters, revisit_cover, red.revisit_tasks),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for i in range(red.relays):
        add("red7_relay_squad", "harvest", relay_member(i, red.relays), planned=red.relay_tasks)
    for i in range(red.drips):
        add("red7_twoturn_drip", "harvest", drip_member(i), planned=red.drip_tasks)
    for scenario, count, persona in (
        ("red7_ab_judge", red.ab_judges, ab_judge),
        ("red7_tool_assistant", red.assistants, tool_assistant),
        ("red7_hint_button", red.hints, hint_button),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
    for i in range(red.desk):
        add("red7_handoff_desk", "benign", handoff_member(i, red.desk))
