"""loadtest.bench_observe: the script it sends is the one the gateway registers, and its
stream is the real caller's, seeded, with the cases observe.lua branches on."""

from __future__ import annotations

from gateway.redis.scripts import ScriptRegistry
from loadtest.bench_observe import observe_text, stream

KEYS, HEAD, STRIDE = 13, 8, 30  # observe.lua's layout


def test_this_checkouts_script_is_the_registered_one() -> None:
    registry = ScriptRegistry("gateway.detection", ("observe",))
    assert observe_text(None) == registry["observe"].text
    assert observe_text("HEAD").startswith("-- An entity's detector observations")


def test_the_stream_is_seeded_and_laid_out_as_observe_lua_reads_it() -> None:
    calls = stream(300, 0.3)
    assert calls == stream(300, 0.3)
    assert calls != stream(300, 0.3, seed=8)
    sightings: list[str] = []
    for call in calls:
        assert call[0] == KEYS
        argv = call[1 + KEYS :]
        assert (len(argv) - HEAD) % STRIDE == 0 and len(argv) > HEAD
        sightings += [argv[o] for o in range(HEAD, len(argv), STRIDE)]
    named = [s for s in sightings if s]
    assert len(named) > len(set(named)) and "" in sightings  # replays and unnamed ones
    assert any("cl:big" in str(call[1]) for call in calls)  # a heavy cluster entity
