"""Red-team round 11's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one person's key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam11_harvest import cipher, split_turn
from loadtest.detection.redteam11_personas import paste_chat


@dataclass(frozen=True, slots=True)
class Red11Plan:
    """Sizes of round 11's scenarios (0 leaves one out)."""

    encoders: int = 0  # each task encoded (base64 / ROT13) after a short ask ...
    encoded: int = 350  # ... this many each
    splitters: int = 0  # each task its own user message, a short ask last ...
    split: int = 350  # ... this many each
    pasters: int = 0  # a person's front end: pasted text, then a question


RED11_NONE = Red11Plan()
RED11_FULL = Red11Plan(encoders=5, splitters=5, pasters=3)
RED11_QUICK = Red11Plan(encoders=1, encoded=40, splitters=1, split=40, pasters=1)


def populate11(red: Red11Plan, add: Callable[..., Any]) -> None:
    """Add round 11's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    for scenario, count, fn, planned in (
        ("red11_cipher", red.encoders, cipher, red.encoded),
        ("red11_split_turn", red.splitters, split_turn, red.split),
    ):
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for _ in range(red.pasters):
        add("red11_paste_chat", "benign", paste_chat)
