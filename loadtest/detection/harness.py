"""A real gateway and the mock upstream, in process, on a simulated clock.

Both are aiohttp apps served on loopback by ``aiohttp.test_utils.TestServer``; requests go
through the full HTTP stack (authenticate, inspect, identify, decide, forward, settle). After
every request the harness waits for the detection and linker queues (``drain``), so what the
next request sees does not depend on scheduling, and reads the level the budget script applies
(the max of the account's and its cluster's level keys).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import GatewayState, build_app, build_detect_worker, build_state
from gateway.auth.api_keys import generate_key, hash_key
from gateway.auth.keys_file import KeyRecord, write_records
from gateway.challenges.tokens import HEADER, header_value
from gateway.challenges.tokens import solve as solve_pow
from gateway.clock import FakeClock
from gateway.clusters.types import ClusterInfo
from gateway.mock.app import build_mock_app
from gateway.settings import Settings
from loadtest.detection.continuity import answer_text
from loadtest.detection.own_plan import OwnPlan
from loadtest.detection.policy import OWN_BUDGETS
from loadtest.detection.traffic import Account, Outcome, Request

CHAT = "/v1/chat/completions"
CLUSTER_REFUSAL = "your linked accounts' shared"  # a cluster budget's refusal message
EXPECTED_COMPLETION = 64  # the mock's natural completion length: estimate for refused requests


def write_keys(path: Path, accounts: Iterable[Account]) -> dict[str, str]:
    """One API key per account (hashes written once to ``path``); account name -> key."""
    keys: dict[str, str] = {}
    records: list[KeyRecord] = []
    for acc in accounts:
        key = generate_key()
        alg, digest = hash_key(key, None)
        keys[acc.name] = key
        records.append(
            KeyRecord(
                id=digest[:12],
                alg=alg,
                hash=digest,
                account_id=acc.name,
                tier=acc.tier,
                attrs=dict(acc.attrs),
                created_at="2026-01-01T00:00:00Z",
            )
        )
    write_records(path, records)
    return keys


class Harness:
    """Start with :meth:`start`, send with :meth:`send`, stop with :meth:`close`."""

    def __init__(
        self,
        policy: Path,
        workdir: Path,
        store: str,
        clock: FakeClock,
        solve_budget: int = 100,
        prefix: str | None = None,
    ) -> None:
        self.policy = policy
        self._prefix = prefix  # None: a random one (this run's keys apart on a shared server)
        self.solve_budget = solve_budget  # proof-of-work solves left (real CPU: ~0.2 s each)
        self.solved = 0
        self.prefix = ""
        self.workdir = workdir
        self.store = store
        self.clock = clock
        self.keys: dict[str, str] = {}
        self.ips: dict[str, str] = {}
        self.state: GatewayState | None = None
        self._mock: TestServer | None = None
        self._client: TestClient[Any, Any] | None = None
        self.own_plan = OwnPlan(self.own_refusals)

    async def start(self, accounts: Iterable[Account]) -> None:
        accounts = list(accounts)
        self.keys = write_keys(self.workdir / "keys.yaml", accounts)
        self.ips = {a.name: a.client_ip for a in accounts}
        self._mock = TestServer(build_mock_app(clock=self.clock))
        await self._mock.start_server()
        settings = Settings(
            upstream=str(self._mock.make_url("")).rstrip("/"),
            store=self.store,
            store_prefix=self._prefix or f"dgeval{secrets.token_hex(4)}",
            policies=str(self.policy),
            keys_file=str(self.workdir / "keys.yaml"),
            challenge_secret="detection-kit-" + "0" * 32,  # fixed: a deterministic run
            link_secret="detection-kit-link-" + "0" * 32,
            trusted_proxies=("127.0.0.0/8", "::1/128"),
            log_level="error",
        )
        self.prefix = settings.store_prefix
        self.state = build_state(settings, self.clock)
        if self.state.detect is None:  # Redis: `gateway detect`'s loop, in this process
            self.state.detect = build_detect_worker(self.state, consumer="detection-kit")
        self._client = TestClient(TestServer(build_app(settings, self.clock, self.state)))
        await self._client.start_server()

    @property
    def session(self) -> ClientSession:
        assert self._client is not None
        return self._client.session

    async def level(self, account: str) -> int:
        """The level the budget script applies to ``account`` now (account or cluster)."""
        state = self.state
        assert state is not None
        info = await state.clusters.get(account)
        keys, budgets = state.backend.keys, state.backend.budgets
        own = await budgets.get_level(keys.account_level(info.cluster_id, account))
        cluster = await budgets.get_level(keys.cluster_level(info.cluster_id))
        return int(max(own, cluster))

    async def cluster_of(self, account: str) -> tuple[str, int]:
        """(cluster id, size) of ``account`` now."""
        assert self.state is not None
        info = await self.state.clusters.get(account)
        return info.cluster_id, info.size

    async def reasons(self, account: str) -> tuple[str, ...]:
        """The detection reasons (operator-facing) of the account and of its cluster."""
        assert self.state is not None
        cluster_id, size = await self.cluster_of(account)
        views = [await self.state.detection.view(f"a:{account}")]
        if size > 1:
            views.append(await self.state.detection.view(f"c:{cluster_id}"))
        return tuple(
            f"{v['entity'][0]}:{v['level']}: {r}" for v in views for r in v.get("reasons", ())
        )

    async def families(self, account: str) -> dict[str, Any]:
        """Family scores of the account and its cluster (calibration traces)."""
        assert self.state is not None
        cluster_id, size = await self.cluster_of(account)
        out: dict[str, Any] = {"cluster_size": size}
        for kind, entity in (("a", f"a:{account}"), ("c", f"c:{cluster_id}")):
            if kind == "c" and size <= 1:
                continue
            view = await self.state.detection.view(entity)
            out[kind] = {
                "score": view.get("score"),
                "raw": view.get("raw"),
                **{f: v["score"] for f, v in view.get("families", {}).items()},
            }
        return out

    async def settle(self) -> None:
        """Wait for the queued observations (detection, then linking)."""
        state = self.state
        assert state is not None
        await state.observations_applied()

    async def send(self, account: str, request: Request, *, solve: bool = False) -> Outcome:
        """Send ``request`` as ``account``; ``solve``: answer a proof-of-work challenge once
        (what an honest client with ``gateway.challenges.client`` does)."""
        level = await self.level(account)
        self.own_plan.before()
        headers = {
            **request.headers,
            "Authorization": f"Bearer {self.keys[account]}",
            "X-Forwarded-For": self.ips[account],
            "Content-Type": "application/json",
        }
        body = json.dumps(request.body).encode()
        status, payload, resp_headers = await self._post(body, headers, request.path)
        error = payload.get("error") or {}
        challenged = status == 403 and error.get("code") == "challenge_required"
        if challenged and solve and self.solved < self.solve_budget:
            self.solved += 1
            challenge = error.get("challenge") or {}
            token, difficulty = str(challenge.get("token")), int(challenge.get("difficulty", 0))
            proof = header_value(token, solve_pow(token, difficulty))
            status, payload, resp_headers = await self._post(
                body, {**headers, HEADER: proof}, request.path
            )
            error = payload.get("error") or {}
        degraded = "x-gateway-degraded" in resp_headers
        assert self.state is not None
        cluster = await self.state.clusters.get(account)  # after the answer: read once
        over_plan = self.own_plan.after(cluster.cluster_id, self.clock.now())
        if status == 200:
            usage = payload.get("usage") or {}
            return Outcome(
                status,
                degraded=degraded,
                tokens=int(usage.get("total_tokens", 0)),
                level=level,
                challenged=challenged,
                answer=answer_text(payload),
                response_id=str(payload.get("id", "")) if _is_response(payload) else "",
            )
        soft_refused = (
            status == 429
            and not over_plan
            and not self.own_plan.pool_drained(cluster.cluster_id, self.clock.now())
            and _soft_cluster_refusal(error, cluster)
        )
        return Outcome(
            status,
            error_type=str(error.get("type") or ""),
            error_code=str(error.get("code") or ""),
            degraded=degraded,
            tokens=estimate_tokens(request.body),
            level=level,
            retry_after=float(resp_headers.get("retry-after", "0") or 0),
            challenged=challenged,
            soft_cluster_refused=soft_refused,
        )

    def own_refusals(self) -> float:
        """How many times the shadow copies of the shipped account budgets would have
        refused so far (``policy.OWN_BUDGETS``): compared around a request, whether the
        account alone would have been refused."""
        assert self.state is not None
        return sum(
            sample.value
            for family in self.state.metrics.shadow_refusals.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
            and sample.labels.get("budget", "").startswith(OWN_BUDGETS)
        )

    async def _post(
        self, body: bytes, headers: Mapping[str, str], path: str = CHAT
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert self._client is not None
        # through the session, not TestClient.post: TestClient keeps every response it
        # made until it closes (~25 KB a request: ~10 GB over a whole-kit run)
        url = self._client.make_url(path)
        async with self._client.session.post(url, data=body, headers=headers) as resp:
            raw = await resp.read()
            status, resp_headers = resp.status, {k.lower(): v for k, v in resp.headers.items()}
        await self.settle()
        return status, _json(raw), resp_headers

    async def close(self) -> None:
        redis = self.state.backend.redis if self.state is not None else None
        if redis is not None:  # this run's keys only (its own random prefix)
            keys = [key async for key in redis.scan_iter(match=f"{self.prefix}:*", count=1000)]
            for i in range(0, len(keys), 500):
                await redis.delete(*keys[i : i + 500])
        if self._client is not None:
            await self._client.close()
        if self._mock is not None:
            await self._mock.close()


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """Prompt characters / 4 plus the completion the mock would have returned."""
    chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", ()))
    chars += len(str(body.get("prompt", "")))
    return chars // 4 + EXPECTED_COMPLETION


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return _streamed_response(raw)
    return value if isinstance(value, dict) else {}


def _streamed_response(raw: bytes) -> dict[str, Any]:
    """A streamed Responses API answer: the last event's ``response`` object (the completed
    response, with its id and usage), what a streaming client keeps; ``{}`` otherwise."""
    last: dict[str, Any] = {}
    for line in raw.splitlines():
        if not line.startswith(b"data:"):
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("response"), dict):
            last = event["response"]
    return last


def _soft_cluster_refusal(error: Mapping[str, Any], cluster: ClusterInfo) -> bool:
    """The 429 came from a cluster budget (as its message says) of ``cluster``, several
    accounts linked by soft evidence only."""
    return CLUSTER_REFUSAL in str(error.get("message") or "") and cluster.size > 1 and cluster.soft


def _is_response(payload: dict[str, Any]) -> bool:
    """A Responses API answer (its id is what ``previous_response_id`` names)."""
    return payload.get("object") == "response"
