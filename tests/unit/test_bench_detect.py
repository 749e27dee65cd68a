"""The detection apply benchmark's pieces: kit traffic as sightings, and one bounded run on a
private redis-server (the benchmark flushes its database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.detection.batch import Sighting
from gateway.detection.config import DetectionPolicy
from loadtest.bench_detect import Sent, kit_sightings, run, with_ids
from loadtest.bench_procs import start_redis


@pytest.fixture(scope="module")
def sightings() -> list[Sighting]:
    return with_ids(kit_sightings(500))


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    proc, url = start_redis(tmp_path)
    try:
        yield url
    finally:
        proc.stop()


def test_kit_sightings_are_time_ordered_with_stream_like_ids(sightings: list[Sighting]) -> None:
    assert len(sightings) == 500
    assert [s.now for s in sightings] == sorted(s.now for s in sightings)
    assert len({s.id for s in sightings}) == 500
    shard, _, entry = sightings[0].id.partition(":")
    assert shard.isdigit() and entry.count("-") == 1
    hydra = [s for s in sightings if s.identity.account_id.startswith("hydra")]
    assert all(s.cluster_size > 1 for s in hydra)


async def test_batches_send_fewer_commands_and_a_replay_keeps_the_outcome(
    sightings: list[Sighting], private_redis: str
) -> None:
    policy = DetectionPolicy()
    with Sent() as sent:
        one = await run(private_redis, sightings, 1, policy, False, sent)
        many = await run(private_redis, sightings, 100, policy, False, sent)
        replayed = await run(private_redis, sightings, 100, policy, True, sent)
    assert many["commands_sent"] < one["commands_sent"] / 2
    assert many["commands_executed"] < one["commands_executed"]
    assert replayed["levels"] == many["levels"]
    accounts = len({s.identity.account_id for s in sightings})
    assert sum(one["levels"].values()) == sum(many["levels"].values()) == accounts
