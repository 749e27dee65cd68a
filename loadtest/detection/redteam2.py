"""Red-team round 11b's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, own client stack, no payment, org or device)
unless the scenario says otherwise: a labelling vendor's annotators and a company's employees
share their employer's egress address and tool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.redteam2_harvest import app_mimic, chain, sleeper, topic_member
from loadtest.detection.redteam2_personas import annotator, employee, translator
from loadtest.detection.traffic import Account, Behaviour, Outcome, Request

BehaviourFn = Callable[[Account, Context], Behaviour]


@dataclass(frozen=True, slots=True)
class Red2Plan:
    """Sizes of round 11b's scenarios (0 leaves one out)."""

    sleepers: int = 0  # accounts aged as ordinary users, then harvesting ...
    sleeper_tasks: int = 330
    aging_days: float = 4.0  # ... after this many days
    squads: int = 0  # topic-partitioned squads ...
    squad_size: int = 0  # ... of this many members ...
    squad_tasks: int = 0  # ... each asking this many tasks of its own topic area
    mimics: int = 0  # harvesters copying an app template (spread over the three)
    mimic_tasks: int = 330
    chains: int = 0  # conversations of independent tasks
    chain_tasks: int = 330
    translators: int = 0  # customer accounts of one translation app
    vendors: int = 0  # labelling vendors (one address each) ...
    annotators: int = 0  # ... with this many annotator accounts
    employees: int = 0  # accounts behind one company's internal chatbot


RED2_NONE = Red2Plan()
RED2_FULL = Red2Plan(
    sleepers=12,
    squads=4,
    squad_size=8,
    squad_tasks=150,
    mimics=15,
    chains=15,
    translators=8,
    vendors=2,
    annotators=8,
    employees=30,
)
RED2_QUICK = Red2Plan(
    sleepers=2,
    sleeper_tasks=60,
    aging_days=1.0,
    squads=1,
    squad_size=4,
    squad_tasks=40,
    mimics=2,
    mimic_tasks=80,
    chains=2,
    chain_tasks=80,
    translators=2,
    vendors=1,
    annotators=3,
    employees=6,
)


def populate2(red: Red2Plan, add: Callable[..., Any]) -> None:
    """Add round 11b's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    for _ in range(red.sleepers):
        add("red2_sleeper", "harvest", sleeper(red.aging_days), planned=red.sleeper_tasks)
    for squad in range(red.squads):
        for member in range(red.squad_size):
            fn = topic_member(squad, member, red.squad_size)
            add("red2_topic_squad", "harvest", fn, planned=red.squad_tasks)
    for i in range(red.mimics):
        add("red2_app_mimic", "harvest", app_mimic(i), planned=red.mimic_tasks)
    for _ in range(red.chains):
        add("red2_task_chain", "harvest", chain, planned=red.chain_tasks)
    for _ in range(red.translators):
        add("red2_translation_app", "benign", translator)
    for vendor in range(red.vendors):
        for _ in range(red.annotators):
            add("red2_label_vendor", "benign", annotator(vendor), ip=f"192.0.2.{50 + vendor}")
    for _ in range(red.employees):
        add("red2_company_chatbot", "benign", employee(0), ip="192.0.2.60")


def drive(acc: Account, fn: BehaviourFn, ctx: Context, limit: int) -> list[tuple[float, Request]]:
    """What ``fn`` sends for ``acc`` (at most ``limit`` requests) when every request is answered
    200 (a Responses API request with a response id of its own, what a later request may
    continue): a scenario's traffic without a gateway, for tests and sizing."""
    behaviour = fn(acc, ctx)
    sent: list[tuple[float, Request]] = []
    try:
        sent.append(next(behaviour))
        while len(sent) < limit:
            responses = sent[-1][1].path.endswith("/responses")
            answer_id = f"resp_{acc.name}_{len(sent)}" if responses else ""
            sent.append(behaviour.send(Outcome(status=200, response_id=answer_id)))
    except StopIteration:
        pass
    return sent
