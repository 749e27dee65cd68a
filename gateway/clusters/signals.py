"""Pure helpers that place a request in time for the soft signals (IP prefixes come from
:func:`gateway.auth.client_ip.ip_prefix`)."""

from __future__ import annotations

DAY = 86400.0


def day_of(now: float) -> int:
    """The UTC day number of a timestamp (distinct days for soft_repeat_days)."""
    return int(now // DAY)


def window_of(now: float, width: float) -> int:
    """The synchrony window a timestamp falls in."""
    return int(now // width)
