"""Request-level rules both stores share: validation, levels, throttling, result assembly."""

from __future__ import annotations

from gateway.budgets.arithmetic import INF, MAX_CELL, Verdict, quantize
from gateway.model import AcquireRequest, BudgetSpec, BudgetState, Level


def validate(request: AcquireRequest) -> None:
    """Reject requests no store can evaluate (programming errors, not client errors)."""
    if not request.throttle_factor > 0:
        raise ValueError(f"throttle_factor must be > 0, got {request.throttle_factor}")
    for charge in request.charges:
        spec = charge.budget
        if spec.window <= 0:
            raise ValueError(f"budget {spec.name}: window must be > 0, got {spec.window}")
        if spec.algorithm == "bucket" and spec.rate <= 0:
            raise ValueError(f"budget {spec.name}: a bucket needs rate > 0, got {spec.rate}")
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


def state_of(spec: BudgetSpec, verdict: Verdict, novel: bool | None = None) -> BudgetState:
    """A budget state with durations rounded to microseconds, as Redis reports them."""
    retry = verdict.retry_after
    return BudgetState(
        budget=spec,
        allowed=verdict.allowed,
        remaining=verdict.remaining,
        reset_after=quantize(max(verdict.reset_after, 0.0)),
        retry_after=INF if retry == INF else quantize(max(retry, 0.0)),
        novel=novel,
    )
