"""The one table from Redis client errors to the gateway's store errors, and the stores
that go through it when Redis is unreachable."""

from __future__ import annotations

import builtins

import hiredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import (
    ConnectionError,
    NoScriptError,
    RedisClusterException,
    ResponseError,
    TimeoutError,
)
from redis_servers import free_port

from gateway.clock import FakeClock
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.types import Pin
from gateway.model import Level
from gateway.redis.errors import FAILURES, first_failure, store_error, translated, translating
from gateway.redis.keys import KeyBuilder
from gateway.store_errors import ScriptMissing, StoreUnavailable


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NoScriptError("NOSCRIPT No matching script"), ScriptMissing),
        (ConnectionError("refused"), StoreUnavailable),
        (TimeoutError("slow"), StoreUnavailable),
        (ResponseError("ERR wrong type"), StoreUnavailable),
        (RedisClusterException("no slot"), StoreUnavailable),
        (hiredis.ProtocolError("bad reply"), StoreUnavailable),
        (OSError(111, "refused"), StoreUnavailable),
        (builtins.TimeoutError(), StoreUnavailable),  # asyncio.timeout around a call
    ],
)
def test_every_client_error_maps_to_the_gateways_own(
    error: BaseException, expected: type[StoreUnavailable]
) -> None:
    mapped = store_error(error, "budgets")
    assert type(mapped) is expected
    assert str(mapped).startswith("budgets: ") and type(error).__name__ in str(mapped)
    assert isinstance(error, FAILURES)


def test_the_gateways_own_errors_are_kept_and_others_are_no_store_errors() -> None:
    own = StoreUnavailable("down")
    assert store_error(own) is own
    with pytest.raises(TypeError):
        store_error(ValueError("a bug, not a store failure"))


def test_translated_and_first_failure() -> None:
    with pytest.raises(ScriptMissing) as caught, translated("graph"):
        raise NoScriptError("NOSCRIPT")
    assert isinstance(caught.value.__cause__, NoScriptError)
    with pytest.raises(ValueError), translated("graph"):  # not a store error: untouched
        raise ValueError("bug")
    assert first_failure([b"ok", 1]) is None
    failure = first_failure([b"ok", ResponseError("ERR x")], "observations")
    assert isinstance(failure, StoreUnavailable) and "observations" in str(failure)


async def test_translating_wraps_a_store_method() -> None:
    @translating("state")
    async def fails() -> int:
        raise ConnectionError("refused")

    with pytest.raises(StoreUnavailable, match="state: ConnectionError"):
        await fails()


async def test_detection_state_on_an_unreachable_redis_raises_store_unavailable() -> None:
    client = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    state = RedisStateStore(client, KeyBuilder("dg-test-unreachable"))
    now = FakeClock().now()
    try:
        with pytest.raises(StoreUnavailable):
            await state.load("acct:a", now)
        with pytest.raises(StoreUnavailable):
            await state.audit("acct:a")
        with pytest.raises(StoreUnavailable):
            await state.set_pin("acct:a", Pin(Level.BLOCK, now + 60, "t", "x"), now)
    finally:
        await client.aclose()
