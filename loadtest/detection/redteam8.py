"""Red-team round 8's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device): the fake app's "users"
too (nothing links them but the app's system prompt and client stack, as for any real app's
users); a look-alike's account is one person's key (frontend users, bootcamp students) or one
product's key (the answer button, the suggested replies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam8_harvest import (
    app_user,
    code_explain,
    prompt_replay,
    rationalize,
    self_chat,
)
from loadtest.detection.redteam8_personas import (
    answer_key,
    bootcamp_student,
    frontend_user,
    reply_suggest,
)


@dataclass(frozen=True, slots=True)
class Red8Plan:
    """Sizes of round 8's scenarios (0 leaves one out)."""

    replayers: int = 0  # real users' prompts replayed, plain and long ...
    replay_prompts: int = 250  # ... this many each (disjoint slices of the pool)
    chatters: int = 0  # self-chat dialogues (the teacher also plays the student) ...
    dialogues: int = 100  # ... this many finished dialogues each (five requests a dialogue)
    app_users: int = 0  # "users" of one fake homework app ...
    app_tasks: int = 200  # ... this many tasks each (own slices), plus cover and follow-ups
    rationalizers: int = 0  # the task and its gold answer: "how do you get N?"
    coders: int = 0  # real users' coding prompts with a step-by-step ask ...
    code_prompts: int = 75  # ... this many each (disjoint slices of the coding prompts)
    tasks: int = 400  # rationales each rationalizer harvests
    frontend: int = 0
    answer_keys: int = 0
    suggesters: int = 0
    bootcamp: int = 0


RED8_NONE = Red8Plan()
RED8_FULL = Red8Plan(
    replayers=5,
    chatters=5,
    app_users=8,
    rationalizers=5,
    coders=5,
    frontend=3,
    answer_keys=3,
    suggesters=3,
    bootcamp=3,
)
RED8_QUICK = Red8Plan(
    replayers=1,
    replay_prompts=25,
    chatters=1,
    dialogues=6,
    app_users=3,
    app_tasks=8,
    rationalizers=1,
    coders=1,
    code_prompts=10,
    tasks=25,
    answer_keys=1,
)


def populate8(red: Red8Plan, add: Callable[..., Any]) -> None:
    """Add round 8's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red8_prompt_replay", red.replayers, prompt_replay, red.replay_prompts),
        ("red8_self_chat", red.chatters, self_chat, red.dialogues),
        ("red8_app_users", red.app_users, app_user, red.app_tasks),
        ("red8_rationalize", red.rationalizers, rationalize, red.tasks),
        ("red8_code_explain", red.coders, code_explain, red.code_prompts),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for scenario, count, persona in (
        ("red8_frontend_user", red.frontend, frontend_user),
        ("red8_answer_key", red.answer_keys, answer_key),
        ("red8_reply_suggest", red.suggesters, reply_suggest),
        ("red8_bootcamp_student", red.bootcamp, bootcamp_student),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
