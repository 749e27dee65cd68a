"""Red-team round 13's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one product's key (the support agent, the exam-prep app) or one person's key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam13_harvest import mcq_elim, socratic, summary, think_tool
from loadtest.detection.redteam13_personas import exam_prep, resp_assistant, support_agent


@dataclass(frozen=True, slots=True)
class Red13Plan:
    """Sizes of round 13's scenarios (0 leaves one out)."""

    summarised: int = 0  # the bare task, the reasoning summary asked for (Responses API)
    socratics: int = 0  # one operation split by role: decomposers and sub-question solvers
    thinkers: int = 0  # the bare task beside the agent's ``think`` tool
    eliminators: int = 0  # a multiple-choice item, each wrong option's path asked for
    planned: int = 250  # harvest responses each strategy account takes
    agents: int = 0  # a support agent with the ``think`` tool in its catalogue
    exams: int = 0  # an exam-prep app's "explain" button
    assistants: int = 0  # a developer's own assistant on the Responses API


STRATEGIES = 4  # the first rows of ``populate13``'s table are strategies
RED13_NONE = Red13Plan()
RED13_FULL = Red13Plan(
    summarised=5, socratics=5, thinkers=5, eliminators=5, agents=3, exams=3, assistants=3
)
RED13_QUICK = Red13Plan(
    summarised=1, socratics=1, thinkers=1, eliminators=1, planned=40, exams=1, assistants=1
)


def populate13(red: Red13Plan, add: Callable[..., Any]) -> None:
    """Add round 13's accounts of ``red`` through ``add`` (``scenarios.build``'s):
    strategies (harvest, ``planned`` each), then look-alikes (benign)."""
    table: tuple[tuple[str, int, Callable[..., Any]], ...] = (
        ("red13_summary", red.summarised, summary),
        ("red13_socratic", red.socratics, socratic),
        ("red13_think_tool", red.thinkers, think_tool),
        ("red13_mcq_elim", red.eliminators, mcq_elim),
        ("red13_support_agent", red.agents, support_agent),
        ("red13_exam_prep", red.exams, exam_prep),
        ("red13_resp_assistant", red.assistants, resp_assistant),
    )
    for k, (scenario, count, fn) in enumerate(table):
        kwargs = {"planned": red.planned} if k < STRATEGIES else {}
        role = "harvest" if k < STRATEGIES else "benign"
        for _ in range(count):
            add(scenario, role, fn, **kwargs)
