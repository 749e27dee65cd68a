"""Redis Cluster planning: split a request by hash slot, and undo a group's charges.

Account and cluster budgets, levels and clearances share the ``{c:<cluster>}`` tag (one
slot); global budgets live under ``{g:<name>}`` tags. The group holding the level keys is
checked first (it decides the level); the others follow with that level passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.budgets.kind import Adjustment
from gateway.budgets.registry import KINDS
from gateway.model import AcquireRequest, BudgetState, Charge
from gateway.redis.keys import slot_of


@dataclass(slots=True)
class SlotGroup:
    """The part of one request that lives in one slot."""

    slot: int
    charges: list[int] = field(default_factory=list)  # indices into request.charges
    level_keys: list[str] = field(default_factory=list)
    clearance_keys: list[str] = field(default_factory=list)


def group_by_slot(request: AcquireRequest) -> list[SlotGroup]:
    """Groups in call order: the one that reads the level first."""
    groups: dict[int, SlotGroup] = {}

    def group(key: str) -> SlotGroup:
        slot = slot_of(key)
        found = groups.get(slot)
        if found is None:
            found = groups[slot] = SlotGroup(slot)
        return found

    for key in request.level_keys:
        group(key).level_keys.append(key)
    for key in request.clearance_keys:
        group(key).clearance_keys.append(key)
    for index, charge in enumerate(request.charges):
        group(charge.budget.key).charges.append(index)
    return list(groups.values())


def undo_rows(
    charges: list[Charge], states: list[BudgetState], throttled: bool, factor: float
) -> tuple[list[Adjustment], list[str]]:
    """settle.lua rows and releases that take back the charges a group committed."""
    rows: list[Adjustment] = []
    releases: list[str] = []
    for charge, state in zip(charges, states, strict=True):
        if not state.allowed:
            continue  # not committed (a shadow budget that would refuse)
        row = KINDS[charge.budget.algorithm].undo_row(charge, state, throttled, factor)
        if row is None:
            releases.append(charge.budget.key)  # a concurrency slot
        else:
            rows.append(row)
    return rows, releases
