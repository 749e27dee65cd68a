"""Detection levels as a policy names them (``throttle``, ``challenge``, ...)."""

from __future__ import annotations

from typing import Literal

from gateway.model import Level

LevelName = Literal["none", "throttle", "degrade", "challenge", "block"]


def level_of(name: LevelName) -> Level:
    """The :class:`Level` named ``name`` (``"degrade"`` -> ``Level.DEGRADE``)."""
    return Level[name.upper()]
