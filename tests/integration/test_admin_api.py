"""The admin API: real tier, unknown accounts, input validation, store down, audit trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import ADMIN_TOKEN, Gateway, running_gateway
from redis_servers import RedisServer

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _get(gw: Gateway, path: str) -> tuple[int, dict[str, Any]]:
    async with gw.http.get(f"{gw.admin_url}{path}", headers=ADMIN) as response:
        return response.status, await response.json()


async def _post(gw: Gateway, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, str | bytes) else {"json": body}
    async with gw.http.post(f"{gw.admin_url}{path}", headers=ADMIN, **kwargs) as response:
        return response.status, await response.json()


def _error(body: dict[str, Any]) -> dict[str, Any]:
    error = body["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    return error  # type: ignore[no-any-return]


async def test_account_view_shows_the_tier_the_account_was_seen_with(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        assert (await gw.chat("carol")).status == 200  # carol's key says tier "small"
        await gw.state.background.drain()
        status, view = await _get(gw, "/admin/v1/accounts/carol")
        assert status == 200
        assert (view["tier"], view["tier_source"]) == ("small", "seen")
        assert view["seen"]["tier"] == "small"
        assert view["seen"]["first_seen"] <= view["seen"]["last_seen"]
        assert {b["limit"] for b in view["budgets"] if b["budget"] == "account:requests"} == {3}
        # ?tier= is an explicit what-if
        status, what_if = await _get(gw, "/admin/v1/accounts/carol?tier=free")
        assert (what_if["tier"], what_if["tier_source"]) == ("free", "query")
        status, body = await _get(gw, "/admin/v1/accounts/carol?tier=platinum")
        assert status == 400 and _error(body)["param"] == "tier"


async def test_unknown_account_and_cluster_are_404(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        status, body = await _get(gw, "/admin/v1/accounts/nobody")
        assert status == 404 and _error(body)["code"] == "account_not_found"
        status, body = await _get(gw, "/admin/v1/clusters/nobody")
        assert status == 404 and _error(body)["code"] == "cluster_not_found"


@pytest.mark.parametrize(
    ("path", "body", "param", "code"),
    [
        ("/admin/v1/accounts/alice/level", {"level": "block", "reason": "r", "ttl": "abc"},
         "ttl", "invalid_ttl"),
        ("/admin/v1/accounts/alice/level", {"level": "block", "reason": "r", "ttl": -1},
         "ttl", "invalid_ttl"),
        ("/admin/v1/accounts/alice/level", {"level": "block", "reason": "r", "ttl": 1e300},
         "ttl", "invalid_ttl"),
        ("/admin/v1/accounts/alice/level", {"level": "nope", "reason": "r"},
         "level", "invalid_level"),
        ("/admin/v1/clusters/alice/level", {"level": "block"}, "reason", "reason_required"),
        ("/admin/v1/accounts/alice/level", "{not json", None, "invalid_json"),
        ("/admin/v1/accounts/alice/level", "[1, 2]", None, "invalid_json"),
        ("/admin/v1/clusters/link", {"a": "x", "b": 3, "reason": "r"}, "b", "invalid_request"),
        ("/admin/v1/clusters/unlink", {"a": "x", "b": "y"}, "reason", "reason_required"),
    ],
)  # fmt: skip
async def test_bad_admin_input_is_400_naming_the_parameter(
    tmp_path: Path, path: str, body: Any, param: str | None, code: str
) -> None:
    async with running_gateway(tmp_path) as gw:
        status, answer = await _post(gw, path, body)
        assert status == 400
        error = _error(answer)
        assert (error["param"], error["code"]) == (param, code)


async def test_bad_audit_limit_unknown_path_and_wrong_method_are_json(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        for limit in ("abc", "0", "100000"):
            status, body = await _get(gw, f"/admin/v1/audit?limit={limit}")
            assert status == 400 and _error(body)["param"] == "limit"
        status, body = await _get(gw, "/admin/v1/nothing-here")
        assert status == 404 and _error(body)["code"] == "not_found"
        async with gw.http.delete(f"{gw.admin_url}/admin/v1/audit", headers=ADMIN) as response:
            assert response.status == 405
            assert _error(await response.json())["code"] == "method_not_allowed"


async def test_metrics_need_the_admin_token_when_one_is_set(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        async with gw.http.get(f"{gw.admin_url}/metrics") as response:
            assert response.status == 401
        async with gw.http.get(f"{gw.admin_url}/metrics", headers=ADMIN) as response:
            assert response.status == 200
    async with running_gateway(tmp_path / "open", admin_token=None) as gw:
        response = await gw.http.get(f"{gw.admin_url}/metrics")
        assert response.status == 200  # no token configured: metrics stay readable


async def test_account_view_carries_the_audit_trail_of_links_and_levels(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        for account in ("alice", "bob"):
            assert (await gw.chat(account)).status == 200
        await gw.state.background.drain()
        status, _ = await _post(
            gw, "/admin/v1/clusters/link", {"a": "alice", "b": "bob", "reason": "same org"}
        )
        assert status == 200
        level = {"level": "throttle", "reason": "looks scripted", "ttl": 60}
        status, _ = await _post(gw, "/admin/v1/accounts/alice/level", level)
        assert status == 200
        status, view = await _get(gw, "/admin/v1/accounts/alice")
        assert status == 200
        sources = [(e["source"], e.get("reason")) for e in view["audit"]]
        assert ("clusters", "same org") in sources
        assert ("detection", "looks scripted") in sources
        status, cluster = await _get(gw, f"/admin/v1/clusters/{view['cluster_id']}")
        assert status == 200
        assert ("clusters", "same org") in [
            (e["source"], e.get("reason")) for e in cluster["audit"]
        ]


async def test_store_down_is_503_not_500(
    tmp_path: Path, redis_servers: Callable[[], RedisServer]
) -> None:
    server = redis_servers()  # a throwaway redis-server: killed below
    async with running_gateway(tmp_path, store=server.url) as gw:
        assert (await gw.chat("alice")).status == 200
        await gw.state.background.drain()
        assert (await _get(gw, "/admin/v1/accounts/alice"))[0] == 200
        server.kill()
        for path in ("/admin/v1/accounts/alice", "/admin/v1/clusters/alice", "/admin/v1/audit"):
            status, body = await _get(gw, path)
            assert status == 503, path
            assert _error(body)["code"] == "service_unavailable"


async def test_reload_of_an_invalid_policy_is_a_422_error_body(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        running = gw.state.policy_version()
        status, body = await _post(gw, "/admin/v1/policy/reload", {})
        assert status == 200 and body["ok"] is True
        (tmp_path / "policy.yaml").write_text(
            "version: 1\ntiers: {free: {requests: 5 per minute}}\n"
        )
        status, body = await _post(gw, "/admin/v1/policy/reload", {})
        assert status == 422
        error = _error(body)
        assert error["code"] == "invalid_policy" and error["errors"]
        assert error["version"] == running == gw.state.policy_version()
