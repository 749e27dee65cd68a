"""Red-team round 16's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); the sibling ring's
members share only the ids of the roots they store (the operation's own bookkeeping); a
look-alike's account is a person's key (the revision chat), a team member's key (the shared
brief: one team shares the day's brief) or one product's key (the streamed tutor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam16_harvest import (
    preamble_turn,
    rolling_chain,
    sibling_member,
    streamed_root,
)
from loadtest.detection.redteam16_personas import brief_member, stream_tutor, study_chat


@dataclass(frozen=True, slots=True)
class Red16Plan:
    """Sizes of round 16's scenarios (0 leaves one out)."""

    rolling: int = 0  # a root with the ask, then each task continuing the answer just served
    siblings: int = 0  # a ring: tasks branch off roots that another member stored
    streams: int = 0  # branches off a stored root with the ask, every request streamed
    preambles: int = 0  # each task after a served chat opening that holds the ask
    planned: int = 250  # harvest responses each strategy account takes
    students: int = 0  # a student's revision chats (the opening asks for steps)
    team: int = 0  # one team's keys continuing the day's shared brief
    tutors: int = 0  # a homework app streaming chained chats


STRATEGIES = 4  # the first rows of ``populate16``'s table are strategies
RED16_NONE = Red16Plan()
RED16_FULL = Red16Plan(rolling=5, siblings=5, streams=5, preambles=5, students=3, team=3, tutors=3)
RED16_QUICK = Red16Plan(
    rolling=1, siblings=2, streams=1, preambles=1, planned=40, students=1, team=2
)


def populate16(red: Red16Plan, add: Callable[..., Any]) -> None:
    """Add round 16's accounts of ``red`` through ``add`` (``scenarios.build``'s):
    strategies (harvest, ``planned`` each), then look-alikes (benign). The ring and the team
    each share one dict of this call (never a module global)."""
    roots: dict[int, str] = {}
    briefs: dict[int, str] = {}
    table: tuple[tuple[str, int, Callable[[int], Callable[..., Any]]], ...] = (
        ("red16_rolling_chain", red.rolling, lambda _: rolling_chain),
        ("red16_sibling_root", red.siblings, lambda i: sibling_member(i, roots)),
        ("red16_streamed_root", red.streams, lambda _: streamed_root),
        ("red16_preamble_turn", red.preambles, lambda _: preamble_turn),
        ("red16_study_chat", red.students, lambda _: study_chat),
        ("red16_shared_brief", red.team, lambda i: brief_member(i, briefs)),
        ("red16_stream_tutor", red.tutors, lambda _: stream_tutor),
    )
    for k, (scenario, count, fn) in enumerate(table):
        kwargs = {"planned": red.planned} if k < STRATEGIES else {}
        role = "harvest" if k < STRATEGIES else "benign"
        for i in range(count):
            add(scenario, role, fn(i), **kwargs)
