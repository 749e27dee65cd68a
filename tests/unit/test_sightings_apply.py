"""The apply step of the detect worker: detection for the tiers that run it, linking for every
sighting (with its id), and the cluster graph pruned once per interval of the injected clock."""

from __future__ import annotations

from test_detection_batch import START, Rig
from test_detection_traffic import HONEST, events

from gateway.clock import FakeClock
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.linker import Linker
from gateway.clusters.observations import MemoryObservations
from gateway.detection.batch import Sighting
from gateway.detection.config import DetectionPolicy
from gateway.model import Identity
from gateway.sightings.apply import Applier


class _Graph(MemoryClusterGraph):
    """Counts the prunes."""

    prunes = 0

    async def prune(self) -> int:
        self.prunes += 1
        return await super().prune()


def _rig() -> tuple[Rig, Applier, _Graph, FakeClock]:
    rig = Rig.memory()
    rig.policy = DetectionPolicy.model_validate({"tiers": {"internal": {"enabled": False}}})
    graph = _Graph(rig.clock)
    linker = Linker(graph, MemoryObservations(), ClustersPolicy, rig.clock, salt=b"s")
    return rig, Applier(rig.engine, linker, graph, rig.clock, prune_interval=60.0), graph, rig.clock


def _sighting(account: str, tier: str | None, org: str = "acme") -> Sighting:
    _, fp, features = next(events(HONEST, 1, 1))
    identity = Identity(account_id=account, tier=tier, attrs={"org_id": org})
    return Sighting(identity, account, 1, fp, features, START)


async def test_detection_skips_tiers_without_it_and_linking_sees_every_sighting() -> None:
    rig, apply, graph, _ = _rig()
    await apply([("0:1-0", _sighting("svc", "internal")), ("0:2-0", _sighting("user", None))])
    assert (await rig.state.load("a:user", START)).requests == 1
    assert (await rig.state.load("a:svc", START)).requests == 0  # detection is off there
    assert sorted(await graph.members("svc")) == ["svc", "user"]  # linked: same org


async def test_a_batch_applied_again_by_its_ids_counts_once() -> None:
    rig, apply, _, _ = _rig()
    batch = [("0:1-0", _sighting("user", None))]
    await apply(batch)
    await apply(batch)  # claimed after a worker died before acknowledging
    assert (await rig.state.load("a:user", START)).requests == 1


async def test_the_graph_is_pruned_once_per_interval() -> None:
    _, apply, graph, clock = _rig()
    await apply([("0:1-0", _sighting("a", None))])
    assert graph.prunes == 0
    clock.advance(61.0)
    await apply([("0:2-0", _sighting("a", None))])
    await apply([("0:3-0", _sighting("a", None))])
    assert graph.prunes == 1
