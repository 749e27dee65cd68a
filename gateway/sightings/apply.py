"""Applying a batch of sightings: detection state and levels, then account linking.

The one place a worker hands sightings to the detection engine and to the linker. The level
keys the engine writes are the ones the budget script reads on every request, so a level
reaches every gateway replica without any other channel. Every ``prune_interval`` seconds
(by the injected clock) a batch also prunes the cluster graph's expired evidence.

Ids: every sighting comes with its stable id (``<shard>:<stream id>``). A sighting may be
delivered twice: a worker killed after applying and before acknowledging, and another worker
that then claims the entry. Both the engine (``Sighting.id``) and the linker (``ids``) are
idempotent per id, so a batch applied again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gateway.clock import Clock
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.linker import Linker
from gateway.detection.batch import Sighting
from gateway.detection.engine import DetectionEngine

PRUNE_INTERVAL = 3600.0  # seconds between two prunes of the cluster graph


class Applier:
    def __init__(
        self,
        detection: DetectionEngine,
        linker: Linker,
        graph: ClusterGraph,
        clock: Clock,
        *,
        prune_interval: float = PRUNE_INTERVAL,
    ) -> None:
        self._detection = detection
        self._linker = linker
        self._graph = graph
        self._clock = clock
        self._prune_interval = prune_interval
        self._next_prune = clock.now() + prune_interval

    async def __call__(self, batch: Sequence[tuple[str, Sighting]]) -> None:
        sightings = [s if s.id == sid else replace(s, id=sid) for sid, s in batch]
        observed = [s for s in sightings if self._detection.enabled_for(s.identity.tier)]
        if observed:
            await self._detection.observe_many(observed)
        # only a prompt frame (fixed text around a variable body) is a template signal: a
        # bare skeleton of a short prompt ("Can you make it shorter?") would link strangers
        await self._linker.observe_many(
            [(s.identity, s.fingerprint.frame or None, s.now) for s in sightings],
            [s.id for s in sightings],
        )
        now = self._clock.now()
        if now >= self._next_prune:
            self._next_prune = now + self._prune_interval
            await self._graph.prune()
