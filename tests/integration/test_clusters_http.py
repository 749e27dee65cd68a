"""Linked-account clusters through the gateway, on real Redis."""

from __future__ import annotations

from pathlib import Path

from gateway_harness import ADMIN_TOKEN, Gateway, running_gateway

from gateway.clock import FakeClock

POLICY = """
version: 1
defaults: {tier: free}
tiers:
  free:
    requests: {rate: 100/hour, burst: 100}
clusters:
  link_on: {hard: [payment_fingerprint], soft: [ip_prefix, template]}
  budgets:
    free:
      requests: {rate: 4/hour, burst: 4}
detection: {enabled: false}
"""
ACCOUNTS = {
    "a1": ("free", {"payment_fingerprint": "card-1"}),
    "a2": ("free", {"payment_fingerprint": "card-1"}),
    "a3": ("free", {"payment_fingerprint": "card-3"}),
}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _settle(gw: Gateway) -> None:
    await gw.state.observations_applied()


async def _successes(gw: Gateway, accounts: list[str], tries: int) -> int:
    ok = 0
    for i in range(tries):
        response = await gw.chat(accounts[i % len(accounts)], content=f"question {i}")
        ok += response.status == 200
    return ok


async def test_shared_payment_links_accounts_and_they_share_the_cluster_budget(
    tmp_path: Path, redis_url: str, store_prefix: str
) -> None:
    async with running_gateway(
        tmp_path,
        policy=POLICY,
        store=redis_url,
        clock=FakeClock(),
        accounts=ACCOUNTS,
        store_prefix=store_prefix,
    ) as gw:
        for account in ("a1", "a2", "a3"):
            assert (await gw.chat(account)).status == 200
        await _settle(gw)
        view = await (
            await gw.http.get(f"{gw.admin_url}/admin/v1/accounts/a2", headers=ADMIN)
        ).json()
        assert view["members"] == 2
        cluster_id = view["cluster_id"]
        assert cluster_id in ("a1", "a2")
        # the linked pair shares what is left of one cluster budget: 4 minus what the
        # root account already used before the link (a fresh key for the other member)
        shared = await _successes(gw, ["a1", "a2"], 10)
        assert shared <= 3
        refused = await gw.chat("a1")
        error = (await refused.json())["error"]
        assert refused.status == 429
        assert error["type"] == "linked_accounts_requests"
        assert "your linked accounts' shared" in error["message"]
        assert "organi" not in error["message"]
        assert "a2" not in error["message"]
        # the third account is unaffected: its own cluster budget of 4 (1 used)
        assert await _successes(gw, ["a3"], 10) == 3
        cluster = await (
            await gw.http.get(f"{gw.admin_url}/admin/v1/clusters/{cluster_id}", headers=ADMIN)
        ).json()
        assert sorted(cluster["members"]) == ["a1", "a2"]
        assert cluster["links"][0]["evidence"][0]["signal"] == "payment_fingerprint"
        assert "card-1" not in str(cluster)  # hashed values only
        # unlink (audited) separates them and their budgets
        response = await gw.http.post(
            f"{gw.admin_url}/admin/v1/clusters/unlink",
            json={"a": "a1", "b": "a2", "reason": "test"},
            headers=ADMIN,
        )
        assert response.status == 200
        await _settle(gw)
        gw.state.clusters.clear()
        other = "a2" if cluster_id == "a1" else "a1"
        info = await gw.state.clusters.get(other)
        assert info.cluster_id == other and info.size == 1
        assert (await gw.chat(other)).status == 200  # its own, fresh cluster budget
        audit = await (await gw.http.get(f"{gw.admin_url}/admin/v1/audit", headers=ADMIN)).json()
        assert "unlink" in str(audit)


async def test_admin_api_requires_the_token(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        assert (await gw.chat("a1")).status == 200  # an account the gateway has seen
        await gw.state.background.drain()
        response = await gw.http.get(f"{gw.admin_url}/admin/v1/accounts/a1")
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "invalid_admin_token"
        wrong = await gw.http.get(
            f"{gw.admin_url}/admin/v1/accounts/a1", headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status == 401
        ok = await gw.http.get(f"{gw.admin_url}/admin/v1/accounts/a1", headers=ADMIN)
        assert ok.status == 200
        body = await ok.json()
        assert {"account_id", "cluster_id", "members", "budgets"} <= set(body)
