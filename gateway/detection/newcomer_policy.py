"""The ``detection.newcomers:`` policy section: cohorts of light accounts seen as a population
(the rule is in :mod:`gateway.detection.newcomers`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.notation import Duration, PolicyModel


class Newcomers(PolicyModel):
    """A burst of accounts first seen close together whose early streams look alike (single
    turn, never-seen asks, long answers asked for, one pace): each member is floored at
    ``level`` while it is new, once its own stream agrees and its cohort is large enough."""

    level: Literal["none", "throttle", "degrade"] = Field(
        default="none",
        description="The level a newcomer cohort passes to each member whose own early stream "
        "agrees; none turns newcomer cohorts off. Never challenge or block: a cohort is "
        "population evidence, not proof about one account.",
    )
    warmup: Duration = Field(
        default=86400.0,
        description="The population must be on record this long before anyone counts as a "
        "newcomer (when detection starts, every account active in its first day is new to it: "
        "they are the existing customers).",
    )
    known_ttl: Duration = Field(
        default=30 * 86400.0,
        description="An account stays on record (not new) this long after its last request.",
    )
    age: Duration = Field(
        default=3600.0,
        description="An account is a newcomer for this long after its first request on record.",
    )
    min_requests: int = Field(
        default=6, ge=2, description="Requests a newcomer needs before it can join a cohort."
    )
    min_single: float = Field(
        default=0.95, ge=0, le=1, description="Single-turn share a member's stream needs."
    )
    min_novel: float = Field(
        default=0.95, ge=0, le=1, description="Never-seen prompt share a member's stream needs."
    )
    min_output: int = Field(
        default=800,
        ge=1,
        description="max_tokens a member's request must ask for at least (a long answer).",
    )
    human_gap: Duration = Field(
        default=10.0,
        description="Mean gap between requests at or above which a newcomer's pace is human "
        "(machine-, human- and slow-paced newcomers form separate cohorts).",
    )
    slow_gap: Duration = Field(
        default=150.0,
        description="Mean gap at or above which a newcomer is slow-paced (a server relaying "
        "its end users' questions, not a person asking one after another): its own cohort.",
    )
    span: Duration = Field(
        default=2 * 3600.0,
        description="Width of a cohort's time bucket: newcomers first seen in the same or the "
        "previous bucket count together.",
    )
    new_asks: bool = Field(
        default=True,
        description="Floor a member only on a join whose ask is new to its cohort (grows the "
        "cohort's union): throw-away accounts take their own tasks; a workshop's students, "
        "signed up together and each running the lab's same task set, repeat the asks of "
        "whoever ran them first. false: every join of a large enough cohort floors.",
    )
    cohort: int = Field(
        default=6,
        ge=2,
        description="Members (this account included) a cohort needs before it passes its level.",
    )
