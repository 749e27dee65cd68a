"""What every generator needs: the pools, the simulated period and its own random stream."""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass

from loadtest.detection.pools import Pools
from loadtest.detection.traffic import DAY, Account, Outcome, Request

Ask = Generator[tuple[float, Request], Outcome, tuple[float, Outcome]]


@dataclass(frozen=True, slots=True)
class Context:
    """The world a behaviour runs in."""

    pools: Pools
    start: float  # simulated start (Unix seconds, midnight UTC)
    days: float  # simulated length of the run
    cap: int  # most harvest responses one harvesting account tries to extract
    scale: float = 1.0  # benign volume multiplier (quick mode < 1)

    @property
    def end(self) -> float:
        return self.start + self.days * DAY

    def rng(self, account: Account) -> random.Random:
        return random.Random(account.behaviour_seed)


def ask(t: float, request: Request) -> Ask:
    """Send ``request`` at ``t``; after a budget 429, wait as told and send it again."""
    while True:
        outcome = yield t, request
        if outcome.status != 429 and outcome.status < 500:
            return t, outcome
        t += max(1.0, outcome.retry_after)
