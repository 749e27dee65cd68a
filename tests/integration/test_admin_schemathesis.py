"""schemathesis against the live admin API: no 5xx, and every response matches the OpenAPI
document (status codes, content types, bodies). Positive and negative examples, bounded.

The admin listener runs in its own thread and event loop (schemathesis calls it with a
blocking HTTP client), on the memory store, with a policy of two tiers.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from gateway.admin.openapi import OPENAPI_PATH, document
from gateway.app import build_admin_app, build_state
from gateway.settings import Settings

TOKEN = "schemathesis-admin-token"
POLICY = """
version: 1
defaults: {tier: free}
tiers:
  free: {requests: {rate: 60/minute, burst: 10}}
  pro: {requests: {rate: 600/minute, burst: 100}}
clusters: {enabled: true}
"""
EXAMPLES = 25  # per operation and generation mode: about 20 s on a busy 2-core machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    policy = tmp_path_factory.mktemp("schemathesis") / "policy.yaml"
    policy.write_text(POLICY)
    port = _free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner: list[web.AppRunner] = []

    async def start() -> None:
        settings_ = Settings(policies=str(policy), admin_token=TOKEN, store="memory://")
        state = build_state(settings_)
        await state.seen.touch("alice", "pro", state.clock.now())  # one account it knows
        app_runner = web.AppRunner(build_admin_app(state))
        await app_runner.setup()
        await web.TCPSite(app_runner, "127.0.0.1", port).start()
        runner.append(app_runner)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10), "admin listener did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture(scope="module")
def admin_schema(admin_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(admin_url + OPENAPI_PATH)  # the served document
    schema.config.update(base_url=admin_url, headers={"Authorization": f"Bearer {TOKEN}"})
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
    )
    return schema


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """Every operation with valid inputs; those that take inputs also with invalid ones."""
    found = []
    for path, item in document()["paths"].items():
        for method, operation in sorted(item.items()):
            found.append((method, path, GenerationMode.POSITIVE))
            if "parameters" in operation or "requestBody" in operation:
                found.append((method, path, GenerationMode.NEGATIVE))
    return found


# schemathesis' own pytest plugin (``from_fixture``/``parametrize``) fails on pytest 9
# ('Function' object has no attribute '_nodeid'): drive its strategies with hypothesis here.
@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_admin_api_matches_its_openapi_document(
    admin_schema: schemathesis.BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    operation = admin_schema[path][method.upper()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()


def test_every_route_is_documented_and_every_documented_route_is_served(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    app = build_admin_app(build_state(Settings(policies=str(policy), admin_token=TOKEN)))
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(method, path) for path, item in document()["paths"].items() for method in item}
    assert served == documented
