"""The budget math, as pure functions. ``lua/acquire.lua`` and ``lua/settle.lua`` mirror it.

Both stores run the same double-precision operations in the same order, so a memory store
and a Redis store fed the same clock report identical numbers. Durations that leave a store
are rounded to whole microseconds (:func:`quantize`); a duration that can never pass is
``math.inf`` (Redis returns the sentinel ``-1``).

Token bucket (GCRA). ``interval`` T = window / rate is the time one unit takes to refill;
the tolerance ``tau`` = T * limit is the burst expressed in time. The state is the
theoretical arrival time ``tat``: the bucket is full when ``tat <= now``. A charge of
``cost`` units moves ``tat`` by ``cost * step`` where ``step`` is T, or T / factor while the
caller is throttled (each unit costs more time, so both the refill and the burst shrink by
``factor`` and a throttled caller cannot gain units from the switch). A charge larger than
the whole bucket never passes; a throttled charge larger than the throttled burst passes
when the bucket is full.

Fixed windows are aligned to multiples of ``window`` seconds since the Unix epoch.
Novelty windows count milli-units (integers): a new cell costs 1000, a repeat costs
``repeat_cost * 1000`` rounded.
"""

from __future__ import annotations

import math
from typing import NamedTuple

EPSILON = 1e-6  # one microsecond: a wait shorter than this is no wait
MILLI = 1000
INF = math.inf
CONCURRENCY_RETRY = 1.0  # a slot frees when some request ends: hint at most this long a wait
MAX_CELL = 1 << 20  # novelty cells are 0 <= cell < MAX_CELL (a 128 KiB bitmap at most)


class Verdict(NamedTuple):
    """One budget's answer to one charge (before rounding)."""

    allowed: bool
    remaining: int
    reset_after: float
    retry_after: float


def quantize(seconds: float) -> float:
    """Round a duration to whole microseconds (``inf`` stays ``inf``)."""
    if seconds == INF:
        return INF
    return math.floor(seconds * 1e6 + 0.5) / 1e6


def emission_interval(window: float, rate: float) -> float:
    """Seconds for one unit to refill (``rate`` units per ``window`` seconds)."""
    if rate <= 0 or window <= 0:
        raise ValueError(f"a bucket needs a positive rate and window, got {rate}/{window}s")
    return window / rate


def _units(time_left: float, step: float, limit: int) -> int:
    units = math.floor(time_left / step + EPSILON)
    return 0 if units < 0 else (limit if units > limit else units)


def bucket_check(
    tat: float | None, now: float, cost: int, limit: int, interval: float, step: float
) -> tuple[Verdict, float]:
    """Evaluate a bucket charge; return the verdict and the ``tat`` to store if admitted."""
    tau = interval * limit
    base = now if tat is None or tat < now else tat
    if cost > limit:
        return Verdict(False, _units(tau - (base - now), step, limit), base - now, INF), base
    inc = cost * step
    if inc > tau:
        inc = tau
    new_tat = base + inc
    wait = new_tat - tau - now
    if wait > EPSILON:
        return Verdict(False, _units(tau - (base - now), step, limit), base - now, wait), base
    return Verdict(True, _units(tau - (new_tat - now), step, limit), new_tat - now, 0.0), new_tat


def bucket_adjust(tat: float | None, now: float, delta: int, step: float) -> float:
    """Settle ``delta`` units: a refund never moves ``tat`` below now; a charge may go into debt."""
    base = now if tat is None or tat < now else tat
    new_tat = base + delta * step
    if delta < 0 and new_tat < now:
        new_tat = now
    return new_tat


def window_index(now: float, window: float) -> int:
    return math.floor(now / window)


def window_check(
    stored_index: int | None, used: int, now: float, window: float, cost: int, limit: int
) -> tuple[Verdict, int, int]:
    """Evaluate a fixed-window charge; return the verdict, the window index and the new count.

    ``limit`` and ``cost`` share a unit (novelty passes milli-units; ``remaining`` is then
    in milli-units too and the caller divides).
    """
    index = window_index(now, window)
    if stored_index != index:
        used = 0
    reset = (index + 1) * window - now
    left = limit - used
    if cost > limit:
        return Verdict(False, max(left, 0), reset, INF), index, used
    if used + cost <= limit:
        return Verdict(True, left - cost, reset, 0.0), index, used + cost
    return Verdict(False, max(left, 0), reset, reset), index, used


def window_adjust(
    stored_index: int | None, used: int, now: float, window: float, delta: int
) -> int:
    """Settle ``delta`` units in the current window; refunds of a past window are dropped."""
    if stored_index == window_index(now, window):
        return max(0, used + delta)
    return max(0, delta)


def novelty_cost(novel: bool | None, repeat_cost: float) -> int:
    """Milli-units one request costs: a new (or unknown) cell costs a whole unit."""
    return MILLI if novel is None or novel else math.floor(repeat_cost * MILLI + 0.5)


def throttled_step(interval: float, throttled: bool, factor: float) -> float:
    """The time one unit costs: ``interval``, or ``interval / factor`` while throttled."""
    return interval / factor if throttled else interval


def concurrency_check(
    expiries: list[float], present: bool, now: float, limit: int, lease: float
) -> Verdict:
    """Evaluate a slot request against the live leases' expiries (expired ones excluded)."""
    count = len(expiries)
    latest = max(expiries) - now if expiries else 0.0
    if present:
        return Verdict(True, max(limit - count, 0), max(latest, lease), 0.0)
    if count + 1 <= limit:
        return Verdict(True, limit - count - 1, max(latest, lease), 0.0)
    retry = min(min(expiries) - now, CONCURRENCY_RETRY) if expiries else INF
    return Verdict(False, 0, latest, retry)
