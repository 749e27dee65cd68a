"""An in-process gateway in front of an in-process mock upstream, for integration tests.

Both run on aiohttp test servers on loopback; the gateway is built by the real composition
root (``gateway.app``) from real settings and a policy file written by the test.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.app import (
    GatewayState,
    build_admin_app,
    build_app,
    build_detect_worker,
    build_state,
)
from gateway.auth.api_keys import new_key
from gateway.clock import Clock
from gateway.http.protocol import EdgeOptions, EdgeRunner
from gateway.mock.app import build_mock_app
from gateway.observability.tracing import Tracing
from gateway.server import edge_options
from gateway.settings import Settings

ADMIN_TOKEN = "test-admin-token"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"
UPSTREAM_KEY = "sk-upstream-secret"

SIMPLE_POLICY = """
version: 1
defaults: {tier: free, failure_mode: open, max_tokens: 64}
tiers:
  free:
    requests: {rate: 600/minute, burst: 100}
    tokens: {rate: 1000000/hour, burst: 100000}
    concurrency: 16
  small:
    requests: {rate: 3/minute, burst: 3}
  quota:
    quotas: [2/day]
  tokens:
    tokens: {rate: 6000/minute, burst: 500}
  single:
    concurrency: 1
detection: {enabled: false}
clusters: {enabled: false}
"""


TOKEN_BURST = 100_000


def token_policy(concurrency: int) -> str:
    """One ``free`` tier whose tokens (``TOKEN_BURST``, refilled 60 an hour: nothing back
    within a test) show exactly what a request was charged; detection off."""
    return f"""
version: 1
defaults: {{tier: free, failure_mode: open, max_tokens: 64}}
tiers:
  free:
    requests: {{rate: 600/minute, burst: 100}}
    tokens: {{rate: 60/hour, burst: {TOKEN_BURST}}}
    concurrency: {concurrency}
detection: {{enabled: false}}
clusters: {{enabled: false}}
"""


class EdgeTestServer(TestServer):
    """A test server whose connections are the gateway's own (``gateway.http.protocol``)."""

    def __init__(self, app: web.Application, edge: EdgeOptions) -> None:
        super().__init__(app, host="127.0.0.1")
        self._edge = edge

    async def _make_runner(self, **kwargs: Any) -> EdgeRunner:
        return EdgeRunner(self.app, self._edge, **kwargs)


@dataclass
class Gateway:
    url: str
    admin_url: str
    mock_url: str
    state: GatewayState
    keys: dict[str, str]
    http: aiohttp.ClientSession
    tmp: Path
    servers: list[TestServer] = field(default_factory=list)

    def auth(self, account: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[account]}"}

    async def chat(
        self,
        account: str = "alice",
        *,
        content: str = "Hello there",
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> aiohttp.ClientResponse:
        payload = {"model": "mock-gpt", "messages": [{"role": "user", "content": content}]}
        payload.update(body)
        return await self.http.post(
            f"{self.url}/v1/chat/completions",
            json=payload,
            headers={**self.auth(account), **(headers or {})},
        )

    async def tokens_remaining(self, account: str = "alice") -> int:
        """The tokens left in the account's ``account:tokens`` budget (admin API), once the
        background work (settlements) is done."""
        await self.state.background.drain()
        async with self.http.get(
            f"{self.admin_url}/admin/v1/accounts/{account}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as response:
            view = await response.json()
        return next(b["remaining"] for b in view["budgets"] if b["budget"] == "account:tokens")

    async def mock_stats(self) -> dict[str, Any]:
        async with self.http.get(f"{self.mock_url}/mock/stats") as response:
            data: dict[str, Any] = await response.json()
            return data


DEFAULT_ACCOUNTS = {
    "alice": ("free", {"org_id": "org-a"}),
    "bob": ("free", {}),
    "carol": ("small", {}),
    "dave": ("quota", {}),
    "erin": ("tokens", {}),
    "frank": ("single", {}),
}


def _write_files(tmp_path: Path, policy: str) -> tuple[Path, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(textwrap.dedent(policy))
    return policy_file, tmp_path / "keys.yaml"


@asynccontextmanager
async def running_gateway(
    tmp_path: Path,
    *,
    policy: str = SIMPLE_POLICY,
    store: str = "memory://",
    clock: Clock | None = None,
    accounts: dict[str, tuple[str, dict[str, str]]] | None = None,
    mock_options: dict[str, Any] | None = None,
    upstream: str | None = None,
    tracing: Tracing | None = None,
    detect: bool = True,
    **settings: Any,
) -> AsyncIterator[Gateway]:
    """``detect``: with a Redis store, run `gateway detect`'s worker loop in this process
    (memory: the gateway always applies its sightings in-process)."""
    policy_file, keys_file = _write_files(tmp_path, policy)
    keys = {
        name: new_key(keys_file, name, tier=tier, attrs=attrs)
        for name, (tier, attrs) in (accounts or DEFAULT_ACCOUNTS).items()
    }
    mock = TestServer(build_mock_app(**(mock_options or {})), host="127.0.0.1")
    await mock.start_server()
    mock_url = str(mock.make_url("")).rstrip("/")
    values: dict[str, Any] = dict(
        listen="127.0.0.1:0",
        upstream=upstream or mock_url,
        store=store,
        policies=str(policy_file),
        keys_file=str(keys_file),
        admin_token=ADMIN_TOKEN,
        jwt_secret=JWT_SECRET,
        jwt_algorithms=("HS256",),
        upstream_api_key=UPSTREAM_KEY,
        challenge_secret="test-challenge-secret-0123456789abcdef",
        link_secret="test-link-secret-0123456789abcdef",
    )
    values.update(settings)
    state = build_state(Settings(**values), clock)
    if state.detect is None and detect:  # Redis: `gateway detect`'s loop, in this process
        state.detect = build_detect_worker(state, consumer="harness")
    state.tracing = tracing or Tracing()  # off unless a test traces; never from the env
    server = EdgeTestServer(
        build_app(state.settings, state=state), edge_options(state.settings, "api")
    )
    await server.start_server()
    admin = EdgeTestServer(build_admin_app(state), edge_options(state.settings, "admin"))
    await admin.start_server()
    http = aiohttp.ClientSession()
    gateway = Gateway(
        url=str(server.make_url("")).rstrip("/"),
        admin_url=str(admin.make_url("")).rstrip("/"),
        mock_url=mock_url,
        state=state,
        keys=keys,
        http=http,
        tmp=tmp_path,
        servers=[server, admin, mock],
    )
    try:
        yield gateway
    finally:
        await http.close()
        for srv in (admin, server, mock):
            await srv.close()


async def pin_level(gw: Gateway, account: str, level: str, ttl: float = 3600) -> None:
    """An operator's pin: ``level`` for ``account`` through the admin API."""
    response = await gw.http.post(
        f"{gw.admin_url}/admin/v1/accounts/{account}/level",
        json={"level": level, "ttl": ttl, "reason": "test"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status == 200, await response.text()
