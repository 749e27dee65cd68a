"""Red-team round 5's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, own client stack, no payment, org or device);
the hydra's members and the workshops' students too (a lab course's students sign up on
their own; nothing links them but their timing and their notebook).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam5_harvest import (
    critic_loop,
    embed_distill,
    prompt_batch,
    side_channel,
    staggered_member,
    tool_smuggle,
)
from loadtest.detection.redteam5_personas import (
    batch_eval,
    consumer_app,
    research_student,
    search_indexer,
    writing_coach,
)


@dataclass(frozen=True, slots=True)
class Red5Plan:
    """Sizes of round 5's scenarios (0 leaves one out)."""

    sides: int = 0  # reasoning request in a developer message, a content part or a prefill
    smugglers: int = 0  # the task and its instructions as a tool result, constant user turn
    batchers: int = 0  # legacy completions with eight CoT prompts per request ...
    batch_requests: int = 300  # ... this many requests each (eight traces each)
    embedders: int = 0  # embedding distillation, batches of 64 texts, 24/7 ...
    embed_requests: int = 1500  # ... this many requests each
    critics: int = 0  # answer, critique, rewrite per task ...
    critic_tasks: int = 300  # ... this many revised answers each
    hydra: int = 0  # light accounts born one at a time over the run ...
    hydra_tasks: int = 30  # ... each asking this many tasks of its own slice
    tasks: int = 600  # harvest responses each other strategy's account tries to extract
    consumer_apps: int = 0
    indexers: int = 0
    workshops: int = 0  # lab-course workshops ...
    workshop_size: int = 12  # ... of this many students, signed up in the same hour
    coaches: int = 0
    batch_evals: int = 0


RED5_NONE = Red5Plan()
RED5_FULL = Red5Plan(
    sides=9,
    smugglers=8,
    batchers=8,
    embedders=4,
    critics=6,
    hydra=240,
    consumer_apps=4,
    indexers=4,
    workshops=2,
    coaches=4,
    batch_evals=4,
)
RED5_QUICK = Red5Plan(
    sides=1,
    smugglers=1,
    batchers=1,
    batch_requests=10,
    embedders=1,
    embed_requests=20,
    critics=1,
    critic_tasks=8,
    hydra=4,
    hydra_tasks=10,
    tasks=30,
    indexers=1,
    workshops=1,
    workshop_size=6,
    batch_evals=1,
)


def populate5(red: Red5Plan, add: Callable[..., Any]) -> None:
    """Add round 5's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red5_side_channel", red.sides, side_channel, red.tasks),
        ("red5_tool_smuggle", red.smugglers, tool_smuggle, red.tasks),
        ("red5_prompt_batch", red.batchers, prompt_batch, red.batch_requests),
        ("red5_embed_distill", red.embedders, embed_distill, red.embed_requests),
        ("red5_critic_loop", red.critics, critic_loop, red.critic_tasks),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for i in range(red.hydra):
        add(
            "red5_staggered_hydra",
            "harvest",
            staggered_member(i, red.hydra),
            planned=red.hydra_tasks,
        )
    for scenario, count, persona in (
        ("red5_consumer_app", red.consumer_apps, consumer_app),
        ("red5_search_indexer", red.indexers, search_indexer),
        ("red5_writing_coach", red.coaches, writing_coach),
        ("red5_batch_eval", red.batch_evals, batch_eval),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
    for group in range(red.workshops):
        for _ in range(red.workshop_size):
            add("red5_research_student", "benign", research_student(group))
