"""loadtest.bench_pair, bench_meet and redis_profile: the scripts they name or send are the
ones the gateway registers, and the streams are seeded and laid out as the scripts read
them."""

from __future__ import annotations

from gateway.clusters.observations_redis import RedisObservations
from gateway.detection.coactivity import MAX_PARTNERS
from gateway.detection.coactivity_redis import RedisCoActivity
from gateway.redis.keys import KeyBuilder
from loadtest.bench_meet import meet_text
from loadtest.bench_meet import stream as meet_stream
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


def test_bench_meet_sends_the_registered_script_and_the_callers_layout() -> None:
    co = RedisCoActivity(None, KeyBuilder("t"))  # type: ignore[arg-type]
    assert meet_text(None) == co._meet.text
    assert meet_text("HEAD").startswith("-- Prelude of the co-activity scripts")
    calls = meet_stream(200, 150, 8, 2.0)
    assert calls == meet_stream(200, 150, 8, 2.0) != meet_stream(200, 150, 8, 2.0, seed=6)
    for call in calls:
        argv, at = call[2:], 0
        while at < len(argv):
            assert float(argv[at]) - float(argv[at + 1]) == 3600.0
            met = argv[at + 5 : at + 5 + argv[at + 4]]
            assert argv[at + 3] == MAX_PARTNERS and met and call[1][3:] not in met
            at += 5 + len(met)
        assert at == len(argv)
