"""Red-team round 12's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one product's key (the claims service) or one person's key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam12_harvest import confusable, fill_form, long_tail, puzzle_digest
from loadtest.detection.redteam12_personas import claims_form, doc_review, sw_student


@dataclass(frozen=True, slots=True)
class Red12Plan:
    """Sizes of round 12's scenarios (0 leaves one out)."""

    confusables: int = 0  # a step-by-step ask in look-alike or invisible characters
    formers: int = 0  # a record to fill, the working in a neutrally named field
    digests: int = 0  # the task as a newsletter's reader puzzle
    tails: int = 0  # the step-by-step ask in a long-tail language
    planned: int = 300  # harvest responses each strategy account takes
    claims: int = 0  # an insurer's triage service filling a record with a justification
    reviewers: int = 0  # an analyst pasting long documents
    students: int = 0  # a Kenyan student asking step by step in Swahili


RED12_NONE = Red12Plan()
RED12_FULL = Red12Plan(
    confusables=5, formers=5, digests=5, tails=5, claims=3, reviewers=3, students=3
)
RED12_QUICK = Red12Plan(
    confusables=1, formers=1, digests=1, tails=1, planned=40, claims=1, reviewers=1
)


def populate12(red: Red12Plan, add: Callable[..., Any]) -> None:
    """Add round 12's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    for scenario, count, fn in (
        ("red12_confusable", red.confusables, confusable),
        ("red12_fill_form", red.formers, fill_form),
        ("red12_puzzle_digest", red.digests, puzzle_digest),
        ("red12_long_tail", red.tails, long_tail),
    ):
        for _ in range(count):
            add(scenario, "harvest", fn, planned=red.planned)
    for scenario, count, persona in (
        ("red12_claims_form", red.claims, claims_form),
        ("red12_doc_review", red.reviewers, doc_review),
        ("red12_sw_student", red.students, sw_student),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
