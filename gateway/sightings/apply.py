"""Applying a batch of sightings: detection state and levels, then account linking.

The one place a worker hands sightings to the detection engine and to the linker. The level
keys the engine writes are the ones the budget script reads on every request, so a level
reaches every gateway replica without any other channel.

Ids: every sighting comes with its stable id (``<shard>:<stream id>``). A sighting may be
applied twice: a worker killed after applying and before acknowledging, and another worker
that then claims the entry. TODO(detect-apply): hand the ids to
``DetectionEngine.observe_many`` and the linker once they are idempotent per id; until then
a claimed batch that had been applied is applied again.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.clusters.worker import LinkerWorker
from gateway.detection.batch import Sighting
from gateway.detection.engine import DetectionEngine


class Applier:
    def __init__(self, detection: DetectionEngine, linker: LinkerWorker) -> None:
        self._detection = detection
        self._linker = linker

    async def __call__(self, batch: Sequence[tuple[str, Sighting]]) -> None:
        sightings = [s for _, s in batch]
        observed = [s for s in sightings if self._detection.enabled_for(s.identity.tier)]
        if observed:
            await self._detection.observe_many(observed)
        # only a prompt frame (fixed text around a variable body) is a template signal: a
        # bare skeleton of a short prompt ("Can you make it shorter?") would link strangers
        await self._linker.observe_many(
            [(s.identity, s.fingerprint.frame or None, s.now) for s in sightings]
        )
