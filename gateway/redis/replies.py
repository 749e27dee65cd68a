"""Reading replies of the shared client (``decode_responses=False``: bytes)."""

from __future__ import annotations


def text(value: object) -> str:
    """A reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
