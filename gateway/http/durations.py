"""Go-style relative durations, as OpenAI's x-ratelimit-reset-* headers use them."""

from __future__ import annotations


def go_duration(seconds: float) -> str:
    """``12ms``, ``1s``, ``6m0s``, ``4m12.172s``, ``23h18m29.144s``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = rest / 1000
    sec_text = f"{secs:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{minutes}m{sec_text}s"
    return f"{sec_text}s"
