"""ARGV encoding and reply decoding for the Lua scripts (layouts documented in ``lua/*.lua``).

The static part of a budget (algorithm code, limit, window, emission interval) is encoded
once and cached per :class:`BudgetSpec`, so a request costs a handful of list appends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.budgets.arithmetic import INF
from gateway.budgets.kind import Adjustment
from gateway.budgets.registry import KINDS
from gateway.memo import BoundedMemo
from gateway.model import BudgetSpec, BudgetState, Charge, Settlement

ALGORITHM_CODES = {name: kind.code for name, kind in KINDS.items()}
EMPTY = b""


class SpecCodec:
    """Bounded cache of each budget's encoded static fields."""

    def __init__(self, size: int = 16384) -> None:
        # by identity: hashing a frozen dataclass hashes every field, on every lookup; the
        # planner hands out the same spec objects request after request
        self._cache: BoundedMemo[int, tuple[BudgetSpec, str]] = BoundedMemo(size)

    def static(self, spec: BudgetSpec) -> str:
        """``"code,limit,window,interval,"`` (novelty: its repeat cost follows as the cost)."""
        found = self._cache.get(id(spec))
        if found is not None and found[0] is spec:
            return found[1]
        encoded = KINDS[spec.algorithm].static_args(spec)
        self._cache.put(id(spec), (spec, encoded))
        return encoded

    def acquire_args(
        self,
        charges: Sequence[Charge],
        level_keys: Sequence[str],
        clearance_keys: Sequence[str],
        now: bytes | float,
        request_id: str,
        factor: float,
        commit: bool,
        forced: tuple[int, bool] | None = None,
    ) -> tuple[int, list[Any]]:
        """KEYS and ARGV of acquire.lua. ``forced``: (level, cleared) instead of reading them."""
        args: list[Any] = [c.budget.key for c in charges]
        args.extend(level_keys)
        args.extend(clearance_keys)
        numkeys = len(args)
        level, cleared = forced if forced is not None else (-1, False)
        parts = [
            f"{len(charges)},{len(level_keys)},{len(clearance_keys)},{factor!r},"
            f"{1 if commit else 0},{level},{1 if cleared else 0}"
        ]
        for charge in charges:
            budget = charge.budget
            parts.append(KINDS[budget.algorithm].charge_args(self.static(budget), charge))
        args.append(now)
        args.append(request_id)
        args.append("[" + ",".join(parts) + "]")
        return numkeys, args


def decode_states(charges: Sequence[Charge], reply: Sequence[int]) -> list[BudgetState]:
    """Per-charge states from an acquire.lua reply."""
    states = []
    at = 3
    for charge in charges:
        retry, novel = reply[at + 3], reply[at + 4]
        states.append(
            BudgetState(
                charge.budget,
                reply[at] == 1,
                reply[at + 1],
                reply[at + 2] / 1e6,
                INF if retry < 0 else retry / 1e6,
                None if novel < 0 else novel == 1,
            )
        )
        at += 5
    return states


def settlement_rows(settlement: Settlement) -> list[Adjustment]:
    """settle.lua rows of a settlement's token adjustments (bucket and window budgets)."""
    rows = []
    for spec, delta in settlement.adjustments:
        if delta == 0:
            continue
        row = KINDS[spec.algorithm].settle_row(spec, delta)
        if row is not None:
            rows.append(row)
    return rows


SettleGroup = tuple[str, Sequence[Adjustment], Sequence[str]]
"""One request's part of a settle.lua call: (request id, adjustment rows, keys to release)."""


def settle_args(now: bytes, groups: Sequence[SettleGroup]) -> tuple[int, list[Any]]:
    """KEYS and ARGV of settle.lua for one or more requests' settlements."""
    keys: list[Any] = []
    argv: list[Any] = [now, len(groups)]
    for request_id, rows, releases in groups:
        keys.extend(row.key for row in rows)
        keys.extend(releases)
        argv.append(request_id)
        argv.append(len(rows))
        argv.append(len(releases))
        for row in rows:
            argv.append(row.algorithm)
            argv.append(row.step)
            argv.append(row.delta)
            argv.append(row.cell)
    return len(keys), keys + argv
