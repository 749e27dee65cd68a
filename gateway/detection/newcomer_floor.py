"""A newcomer cohort's level on its members (the rule is in :mod:`gateway.detection.newcomers`):
applied to a batch's verdicts after every other floor, one account at a time."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.detection.config import level_of
from gateway.detection.floors import Scored, floor_to


def floored(scored: Sequence[Scored], found: dict[str, int]) -> list[Scored]:
    """``scored`` with each account that joined a large enough cohort (``found``: its size)
    raised to its section's ``level`` for ``age`` (never a pinned verdict, never lowered)."""
    out: list[Scored] = []
    for item in scored:
        section = item.policy.newcomers
        size = found.get(item.account_id, 0) if item.account_id is not None else 0
        if (
            size >= section.cohort
            and section.level != "none"
            and not item.verdict.assessment.pinned
        ):
            level = level_of(section.level)
            reason = f"newcomer cohort: {size} look-alike accounts first seen together"
            item = floor_to(item, level, item.now + section.age, reason, "newcomer_cohort")
        out.append(item)
    return out
