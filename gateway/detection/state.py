"""Detector state per entity (account or cluster): the store interface and its update rule.

The update rule (mirrored exactly by ``lua/observe.lua``), per observation at time ``now``:

* every decayed counter (see :data:`COUNTERS`) is multiplied by ``2 ** (-dt / half_life)``
  (``dt`` since the last observation) and the observation's increment is added;
* inter-arrival EWMA: ``d = dt - mean; mean += a*d; var = (1-a)*(var + a*d*d)`` (a = 0.1);
* novelty EWMA of "the cell was new" (a = 1/32);
* 24 hour-of-day slots keep the absolute hour last active (active hours in the last 24 h);
* cells, skeletons and exact prompts are bits (mod 2**14) of a bitmap for the current window
  epoch; "new" means absent from the current and the previous epoch's bitmap;
* a 128-bucket histogram counts coarse topics (u16, saturating) per window epoch; follow-up
  turns are not counted (a follow-up is not a new topic);
* everything expires when the entity stays idle for a whole window.

Stores also take whole batches (the detect worker's path): ``observe_batches`` applies
each entity's observations of a batch (:class:`EntityBatch`) in one call, with exactly the
effect of observing them one by one, in order. An observation may carry its sighting's stable
id; an entity applies an id at most once (atomically with the update, remembered for
:data:`APPLIED_HORIZON` seconds after applying it, at most :data:`APPLIED_CAP` ids per
entity), so a batch that a
dead worker applied and never acknowledged changes nothing when another worker applies it
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.detection.chains import ChainStore
from gateway.detection.coactivity import CoActivityStore
from gateway.detection.newcomers import NewcomerStore
from gateway.detection.stacks import StackStore
from gateway.detection.types import EntityState, Observation, Pin, ScoreState

IAT_ALPHA = 0.1
NOVELTY_ALPHA = 1.0 / 32.0
SYNC_WINDOW = 2.0  # seconds: a different member requesting this soon after counts as synchrony
# Seconds an entity remembers a sighting id after applying it: ten times the stream's default
# claim delay (GATEWAY_DETECT_CLAIM_IDLE, 30 s), so a claimed batch is recognised; a batch
# pending longer (every worker down for minutes) is applied again. Memory (MEMORY USAGE,
# Redis 7.0): ~36 bytes an id up to 128 ids an entity (listpack), ~120 beyond; a sighting
# observes ~1.5 entities, so 1000 sightings/s keep ~16-55 MB of ids.
APPLIED_HORIZON = 300.0
# At most this many ids per entity (the most recent are kept): a hot prompt frame observed
# 100 times a second remembers ~40 s, more than one claim delay.
APPLIED_CAP = 4096


def decay_factor(dt: float, half_life: float) -> float:
    """Multiplier of a decayed counter after ``dt`` seconds."""
    if dt <= 0 or half_life <= 0:
        return 1.0
    return float(2.0 ** (-dt / half_life))


def ewma_update(mean: float, var: float, samples: int, x: float) -> tuple[float, float]:
    """One step of the exponentially weighted mean and variance."""
    if samples == 0:
        return x, 0.0
    d = x - mean
    mean += IAT_ALPHA * d
    var = (1.0 - IAT_ALPHA) * (var + IAT_ALPHA * d * d)
    return mean, var


@dataclass(frozen=True, slots=True)
class Seen:
    """One observation of an entity at ``now``; ``sighting``: its stable id ("": none, the
    observation is applied whenever it is sent)."""

    obs: Observation
    now: float
    sighting: str = ""


@dataclass(frozen=True, slots=True)
class EntityBatch:
    """An entity's observations of one batch, in order (a batch item of
    ``observe_batches``): all in one window epoch, under one window and half-life."""

    entity: str
    seen: tuple[Seen, ...]
    window: float
    half_life: float

    @property
    def epoch(self) -> int:
        return int(self.seen[-1].now // self.window)


@dataclass(frozen=True, slots=True)
class FanoutRequest:
    """Add ``account_id`` to the senders of ``template`` (a batch item of ``fanout_many``)."""

    template: int
    account_id: str
    window: float


@dataclass(frozen=True, slots=True)
class ScoreWrite:
    """Persist an entity's score (a batch item of ``save_scores``)."""

    entity: str
    score: ScoreState
    ttl: float


class DetectorStateStore(Protocol):
    """Where detector state lives: in process (tests, evaluation kit) or in Redis."""

    # the population's episodes and meetings (gateway.detection.coactivity), shared by workers
    coactivity: CoActivityStore
    # recent client stacks per account (gateway.detection.stacks)
    stacks: StackStore
    # newcomer records and cohorts (gateway.detection.newcomers)
    newcomers: NewcomerStore
    # asks kept in stored state, per account (gateway.detection.chains)
    chains: ChainStore

    async def observe(
        self,
        entity: str,
        obs: Observation,
        now: float,
        *,
        window: float,
        half_life: float,
        sighting: str = "",
    ) -> EntityState:
        """Apply one observation and return the state after it (one round trip)."""
        ...

    async def observe_batches(self, batches: Sequence[EntityBatch], at: float) -> list[EntityState]:
        """Apply each entity batch (one call per batch, one round trip for all); the state
        after each batch's last observation. An observation whose sighting id the entity
        applied already changes nothing; ``at``: the applying worker's clock, from which
        the ids applied now are remembered :data:`APPLIED_HORIZON` seconds."""
        ...

    async def load(self, entity: str, now: float) -> EntityState:
        """The current state, without observing (an empty state when unknown)."""
        ...

    async def save_score(self, entity: str, score: ScoreState, ttl: float) -> None:
        """Persist the scorer's held score and level."""
        ...

    async def save_scores(self, writes: Sequence[ScoreWrite]) -> None:
        """``save_score`` each write in order (one round trip)."""
        ...

    async def set_pin(self, entity: str, pin: Pin | None, now: float) -> None:
        """Pin a level until ``pin.until``; ``None`` removes the pin."""
        ...

    async def template_fanout(self, skeleton: int, account_id: str, window: float) -> int:
        """Add the account to the skeleton's senders and return how many distinct ones."""
        ...

    async def fanout_many(self, requests: Sequence[FanoutRequest]) -> list[int]:
        """``template_fanout`` each request in order (one round trip); the counts."""
        ...

    async def append_audit(
        self, entity: str, record: dict[str, Any], keep: int, ttl: float
    ) -> None:
        """Append an audit record, keeping the ``keep`` most recent."""
        ...

    async def audit(self, entity: str, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent audit records, newest first."""
        ...

    async def close(self) -> None: ...
