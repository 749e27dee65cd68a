"""Red-team round 14's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one product's key (the reply drafter, the homework app, the maths-help app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam14_harvest import (
    chained_ask,
    greeting,
    stored_prompt,
    tuned_model,
)
from loadtest.detection.redteam14_personas import coach_app, prompt_app, tutor_chain


@dataclass(frozen=True, slots=True)
class Red14Plan:
    """Sizes of round 14's scenarios (0 leaves one out)."""

    prompted: int = 0  # each task bare as the input of a stored dashboard prompt
    chained: int = 0  # bare tasks branching off a stored root that holds the ask
    greeted: int = 0  # each task bare after an app's opening line promising the working
    tuned: int = 0  # each task bare to the account's own step-by-step fine-tune
    planned: int = 250  # harvest responses each strategy account takes
    drafters: int = 0  # a support-reply drafting product on a stored prompt
    tutors: int = 0  # a homework app's chats chained by previous_response_id
    coaches: int = 0  # a maths-help app whose history opens with its greeting


STRATEGIES = 4  # the first rows of ``populate14``'s table are strategies
RED14_NONE = Red14Plan()
RED14_FULL = Red14Plan(prompted=5, chained=5, greeted=5, tuned=5, drafters=3, tutors=3, coaches=3)
RED14_QUICK = Red14Plan(
    prompted=1, chained=1, greeted=1, tuned=1, planned=40, drafters=1, coaches=1
)


def populate14(red: Red14Plan, add: Callable[..., Any]) -> None:
    """Add round 14's accounts of ``red`` through ``add`` (``scenarios.build``'s):
    strategies (harvest, ``planned`` each), then look-alikes (benign)."""
    table: tuple[tuple[str, int, Callable[..., Any]], ...] = (
        ("red14_stored_prompt", red.prompted, stored_prompt),
        ("red14_chained_ask", red.chained, chained_ask),
        ("red14_greeting", red.greeted, greeting),
        ("red14_tuned_model", red.tuned, tuned_model),
        ("red14_prompt_app", red.drafters, prompt_app),
        ("red14_tutor_chain", red.tutors, tutor_chain),
        ("red14_coach_app", red.coaches, coach_app),
    )
    for k, (scenario, count, fn) in enumerate(table):
        kwargs = {"planned": red.planned} if k < STRATEGIES else {}
        role = "harvest" if k < STRATEGIES else "benign"
        for _ in range(count):
            add(scenario, role, fn, **kwargs)
