"""loadtest.bench_pair and loadtest.redis_profile: the scripts they name or send are the
ones the gateway registers, and bench_pair's stream is the real caller's, seeded, with the
cases pair.lua branches on."""

from __future__ import annotations

from gateway.clusters.observations_redis import RedisObservations
from gateway.detection.coactivity_redis import RedisCoActivity
from gateway.redis.keys import KeyBuilder
from loadtest.bench_pair import pair_text, stream
from loadtest.redis_profile import script_names

HEAD = 12  # pair.lua's note: 12 values, then its others


def test_this_checkouts_script_is_the_registered_one() -> None:
    observations = RedisObservations(None, KeyBuilder("t"))  # type: ignore[arg-type]
    assert pair_text(None) == observations._pair.text
    assert pair_text("HEAD").startswith("-- Record that a soft signal agreed")


def test_the_profile_names_the_workers_scripts() -> None:
    names = script_names()
    co = RedisCoActivity(None, KeyBuilder("t"))  # type: ignore[arg-type]
    assert names[co._meet.sha] == "detection:meet"
    assert names[co._episode.sha] == "detection:episode"
    assert names[co._starts.sha] == "detection:starts"
    observations = RedisObservations(None, KeyBuilder("t"))  # type: ignore[arg-type]
    assert names[observations._pair.sha] == "clusters:pair"


def test_the_stream_is_seeded_and_laid_out_as_pair_lua_reads_it() -> None:
    calls = stream(400, 100, 12)
    assert calls == stream(400, 100, 12)
    assert calls != stream(400, 100, 12, seed=12)
    needs, sightings, hot = set(), [], 0
    for call in calls:
        if call[0] == "HOT":
            hot += 1
            continue
        assert call[0] == 1 and ":" not in str(call[2])
        argv, at = call[2:], 0
        while at < len(argv):
            needs.add(argv[at + 4])
            sightings.append(argv[at + 9])
            at += HEAD + argv[at + 11]
        assert at == len(argv)
    assert needs == {1, 3} and hot > 0
    assert len(sightings) > len(set(sightings))  # sightings delivered again
