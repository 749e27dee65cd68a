"""Request-level rules both stores share: validation, levels, throttling."""

from __future__ import annotations

from gateway.budgets.arithmetic import MAX_CELL
from gateway.budgets.registry import KINDS
from gateway.model import AcquireRequest, Level


def validate(request: AcquireRequest) -> None:
    """Reject requests no store can evaluate (programming errors, not client errors)."""
    if not request.throttle_factor > 0:
        raise ValueError(f"throttle_factor must be > 0, got {request.throttle_factor}")
    for charge in request.charges:
        spec = charge.budget
        if spec.window <= 0:
            raise ValueError(f"budget {spec.name}: window must be > 0, got {spec.window}")
        KINDS[spec.algorithm].check(spec)
        if charge.cost < 0:
            raise ValueError(f"budget {spec.name}: cost must be >= 0, got {charge.cost}")
        if charge.cell is not None and not 0 <= charge.cell < MAX_CELL:
            raise ValueError(f"budget {spec.name}: cell {charge.cell} outside [0, {MAX_CELL})")


def level_refuses(level: int, cleared: bool) -> bool:
    """BLOCK refuses; CHALLENGE refuses unless a clearance is on file."""
    return level >= Level.BLOCK or (level >= Level.CHALLENGE and not cleared)


def is_throttled(level: int, factor: float) -> bool:
    return level >= Level.THROTTLE and factor < 1.0


_LEVELS = tuple(sorted(Level))  # index = value: cheaper than Enum's call, once per request


def to_level(value: int) -> Level:
    return _LEVELS[min(max(value, 0), int(Level.BLOCK))]
