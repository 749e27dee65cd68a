"""Applying a batch of sightings: detection state and levels, then account linking.

The one place a worker hands sightings to the detection engine and to the linker. The level
keys the engine writes are the ones the budget script reads on every request, so a level
reaches every gateway replica without any other channel.

Ids: every sighting comes with its stable id (``<shard>:<stream id>``). A sighting may be
delivered twice: a worker killed after applying and before acknowledging, and another worker
that then claims the entry. Both the engine (``Sighting.id``) and the linker (``ids``) are
idempotent per id, so a batch applied again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gateway.clusters.worker import LinkerWorker
from gateway.detection.batch import Sighting
from gateway.detection.engine import DetectionEngine


class Applier:
    def __init__(self, detection: DetectionEngine, linker: LinkerWorker) -> None:
        self._detection = detection
        self._linker = linker

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
