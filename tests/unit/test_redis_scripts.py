"""The script registry: every package's Lua scripts by name, one loading path, called by
SHA with EVAL when the server lost them (real Redis)."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest
from redis.asyncio import Redis

from gateway.clusters.graph_redis import SCRIPTS as GRAPH_SCRIPTS
from gateway.limiter.redis_store import PRELUDE as BUDGET_PRELUDE
from gateway.limiter.redis_store import SCRIPTS as BUDGET_SCRIPTS
from gateway.redis.batch import run_batch
from gateway.redis.scripts import Script, ScriptRegistry


@pytest.mark.parametrize(
    ("package", "names", "prelude"),
    [
        ("gateway.limiter", BUDGET_SCRIPTS, BUDGET_PRELUDE),
        ("gateway.clusters", GRAPH_SCRIPTS, ("common",)),
        ("gateway.clusters", ("value", "pair"), ()),
        ("gateway.detection", ("observe", "fanout"), ()),
    ],
)
def test_every_package_registers_its_lua_files_by_name(
    package: str, names: tuple[str, ...], prelude: tuple[str, ...]
) -> None:
    scripts = ScriptRegistry(package, names, prelude=prelude)
    folder = resources.files(package) / "lua"
    for name in names:
        script = scripts[name]
        body = (folder / f"{name}.lua").read_text(encoding="utf-8")
        assert script.text.endswith(body)
        if prelude:
            assert script.text.startswith((folder / f"{prelude[0]}.lua").read_text("utf-8"))
        assert script.sha == hashlib.sha1(script.text.encode()).hexdigest()
        assert script.name == f"{package}:{name}"
    assert [s.name for s in scripts] == [f"{package}:{n}" for n in names]


def test_an_unknown_script_name_is_an_error() -> None:
    with pytest.raises(KeyError):
        ScriptRegistry("gateway.detection", ("observe",))["fanout"]


async def test_a_script_runs_by_sha_and_again_after_the_server_lost_it(
    redis_client: Redis, key_prefix: str
) -> None:
    script = Script("test", f"-- {key_prefix}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    key = f"{key_prefix}:n"
    assert await script.run(redis_client, 1, [key, 2]) == 2  # NOSCRIPT: sent with EVAL
    assert await redis_client.script_exists(script.sha) == [True]
    assert await script.run(redis_client, 1, [key, 3]) == 5  # by SHA
    await redis_client.script_flush()
    assert await run_batch(redis_client, [script.call(1, [key, 1])], (script,)) == [6]
