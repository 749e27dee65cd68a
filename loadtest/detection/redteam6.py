"""Red-team round 6's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, own client stack, no payment, org or device);
a look-alike product's account is one company's key (its end users behind its server).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam6_harvest import (
    chunked_continue,
    error_hunt,
    image_task,
    program_trace,
    self_instruct,
    verbal_logits,
)
from loadtest.detection.redteam6_personas import (
    ide_assistant,
    mistake_checker,
    photo_homework,
    practice_generator,
    ticket_router,
)


@dataclass(frozen=True, slots=True)
class Red6Plan:
    """Sizes of round 6's scenarios (0 leaves one out)."""

    evolvers: int = 0  # a seed task in, k harder variants with solutions out
    verbalisers: int = 0  # the k most likely answers with a probability each
    programmers: int = 0  # the task as a commented program that prints the answer
    hunters: int = 0  # a planted slip in a worked solution: find it, redo it
    imagers: int = 0  # the task as a picture, a constant short ask
    chunkers: int = 0  # CoT ask at max_tokens < 256, then "continue" turns ...
    chunk_tasks: int = 200  # ... this many whole traces each
    tasks: int = 500  # harvest responses each other strategy's account tries to extract
    practice: int = 0
    photo: int = 0
    checkers: int = 0
    routers: int = 0
    ides: int = 0


RED6_NONE = Red6Plan()
RED6_FULL = Red6Plan(
    evolvers=5,
    verbalisers=5,
    programmers=5,
    hunters=5,
    imagers=5,
    chunkers=5,
    practice=3,
    photo=3,
    checkers=3,
    routers=3,
    ides=3,
)
RED6_QUICK = Red6Plan(
    evolvers=1,
    verbalisers=1,
    programmers=1,
    hunters=1,
    imagers=1,
    chunkers=1,
    chunk_tasks=6,
    tasks=20,
    photo=1,
    routers=1,
)


def populate6(red: Red6Plan, add: Callable[..., Any]) -> None:
    """Add round 6's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red6_self_instruct", red.evolvers, self_instruct, red.tasks),
        ("red6_verbal_logits", red.verbalisers, verbal_logits, red.tasks),
        ("red6_program_trace", red.programmers, program_trace, red.tasks),
        ("red6_error_hunt", red.hunters, error_hunt, red.tasks),
        ("red6_image_task", red.imagers, image_task, red.tasks),
        ("red6_chunked_continue", red.chunkers, chunked_continue, red.chunk_tasks),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for scenario, count, persona in (
        ("red6_practice_generator", red.practice, practice_generator),
        ("red6_photo_homework", red.photo, photo_homework),
        ("red6_mistake_checker", red.checkers, mistake_checker),
        ("red6_ticket_router", red.routers, ticket_router),
        ("red6_ide_assistant", red.ides, ide_assistant),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
