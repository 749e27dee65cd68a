"""Admin API (bearer ``GATEWAY_ADMIN_TOKEN``) and Prometheus ``/metrics``.

Operators see reasons and evidence here; customers never do.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gateway.detection.types import entity_of_account, entity_of_cluster
from gateway.model import AcquireRequest, Charge, Level
from gateway.proxy.context import RequestContext
from gateway.proxy.planner import Planner

if TYPE_CHECKING:
    from gateway.app import GatewayState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_LEVELS = {level.label: level for level in Level}


def _error(status: int, message: str, code: str) -> web.Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }
    return web.json_response(body, status=status)


def _authorized(request: web.Request, token: str | None) -> bool:
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text=json.dumps(
                {
                    "error": {
                        "message": "invalid JSON body",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_json",
                    }
                }
            ),
            content_type="application/json",
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": {"message": "expected a JSON object"}}', content_type="application/json"
        )
    return body


class AdminApi:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.planner = Planner(state.backend.keys, shadow=state.settings.shadow)

    def guard(self, handler: Handler, *, metrics: bool = False) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            token = self.state.settings.admin_token
            if metrics and not token:
                return await handler(request)  # no token configured: metrics stay readable
            if not _authorized(request, token):
                message = (
                    "admin API disabled: set GATEWAY_ADMIN_TOKEN"
                    if not token
                    else "missing or invalid admin bearer token"
                )
                return _error(401, message, "invalid_admin_token")
            return await handler(request)

        return guarded

    async def metrics(self, request: web.Request) -> web.Response:
        await self.state.metrics.sample_store(self.state.backend.budgets)
        return web.Response(
            body=self.state.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"}
        )

    async def budgets(self, account: str, cluster_id: str, size: int, tier: str) -> list[Any]:
        loaded = self.state.holder.current
        ctx = RequestContext(request_id="admin-peek", started=0.0, now=self.state.clock.now())
        ctx.cluster_id, ctx.cluster_size, ctx.tier = cluster_id, size, tier
        from gateway.model import Identity

        ctx.identity = Identity(account_id=account, tier=tier)
        charges = tuple(
            Charge(self.planner.bind(t, ctx), 0)
            for t in self.planner.templates(loaded, tier, "", "", size)
            if t.algorithm != "novelty"
        )
        result = await self.state.backend.budgets.peek(AcquireRequest("admin-peek", charges))
        return [
            {
                "budget": s.budget.name,
                "scope": s.budget.scope,
                "unit": s.budget.unit,
                "limit": s.budget.limit,
                "remaining": s.remaining,
                "reset_after": round(s.reset_after, 3),
                "mode": s.budget.mode,
            }
            for s in result.states
        ]

    def _tier(self, request: web.Request) -> str:
        policy = self.state.holder.current.policy
        tier = request.query.get("tier")
        return tier if tier in policy.tiers else policy.defaults.tier

    async def account(self, request: web.Request) -> web.Response:
        account = request.match_info["id"]
        view = await self.state.cluster_service.account_view(account)
        tier = self._tier(request)
        view["tier"] = tier
        view["budgets"] = await self.budgets(account, view["cluster_id"], view["members"], tier)
        view["detection"] = await self.state.detection.view(entity_of_account(account), tier)
        return web.json_response(view)

    async def cluster(self, request: web.Request) -> web.Response:
        cluster_id = request.match_info["id"]
        view = await self.state.cluster_service.cluster_view(cluster_id)
        tier = self._tier(request)
        size = int(view.get("size", 1))
        view["budgets"] = [
            b
            for b in await self.budgets(cluster_id, cluster_id, size, tier)
            if b["scope"] == "cluster"
        ]
        view["detection"] = await self.state.detection.view(entity_of_cluster(cluster_id), tier)
        return web.json_response(view)

    async def link(self, request: web.Request) -> web.Response:
        return await self._link_or_unlink(request, link=True)

    async def unlink(self, request: web.Request) -> web.Response:
        return await self._link_or_unlink(request, link=False)

    async def _link_or_unlink(self, request: web.Request, *, link: bool) -> web.Response:
        body = await _json(request)
        a, b, reason = body.get("a"), body.get("b"), body.get("reason")
        if not (isinstance(a, str) and isinstance(b, str) and a and b):
            return _error(
                400, 'expected {"a": account, "b": account, "reason": text}', "invalid_request"
            )
        if not isinstance(reason, str) or not reason.strip():
            return _error(400, "a reason is required (it is audited)", "reason_required")
        actor = str(body.get("actor") or "admin")
        service = self.state.cluster_service
        result = await (service.link if link else service.unlink)(a, b, reason, actor)
        return web.json_response(result)

    async def level(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        ident = request.match_info["id"]
        body = await _json(request)
        name = str(body.get("level", ""))
        reason = body.get("reason")
        if name not in _LEVELS:
            return _error(400, f"level must be one of {', '.join(_LEVELS)}", "invalid_level")
        if not isinstance(reason, str) or not reason.strip():
            return _error(400, "a reason is required (it is audited)", "reason_required")
        actor = str(body.get("actor") or "admin")
        engine = self.state.detection
        if kind == "accounts":
            entity = entity_of_account(ident)
            cluster_id = (await self.state.clusters.get(ident)).cluster_id
        else:
            entity, cluster_id = entity_of_cluster(ident), ident
        if name == "none":
            await engine.clear(entity, actor, reason, cluster_id=cluster_id)
        else:
            ttl = float(body.get("ttl", 3600))
            await engine.pin(entity, _LEVELS[name], ttl, actor, reason, cluster_id=cluster_id)
        return web.json_response(await engine.view(entity))

    async def audit(self, request: web.Request) -> web.Response:
        limit = min(1000, int(request.query.get("limit", "100")))
        return web.json_response(await self.state.cluster_service.audit(limit))

    async def policy(self, request: web.Request) -> web.Response:
        loaded = self.state.holder.current
        return web.json_response(
            {
                "version": loaded.version,
                "sources": list(loaded.sources),
                "last_errors": list(self.state.holder.last_errors),
            }
        )

    async def reload(self, request: web.Request) -> web.Response:
        result = self.state.holder.reload("admin")
        status = 200 if result.ok else 422
        return web.json_response(
            {
                "ok": result.ok,
                "version": self.state.policy_version(),
                "errors": list(result.errors),
            },
            status=status,
        )


def admin_routes(state: GatewayState) -> list[web.RouteDef]:
    api = AdminApi(state)
    g = api.guard
    return [
        web.get("/metrics", g(api.metrics, metrics=True)),
        web.get("/admin/v1/accounts/{id}", g(api.account)),
        web.get("/admin/v1/clusters/{id}", g(api.cluster)),
        web.post("/admin/v1/clusters/link", g(api.link)),
        web.post("/admin/v1/clusters/unlink", g(api.unlink)),
        web.post("/admin/v1/{kind:accounts|clusters}/{id}/level", g(api.level)),
        web.get("/admin/v1/audit", g(api.audit)),
        web.get("/admin/v1/policy", g(api.policy)),
        web.post("/admin/v1/policy/reload", g(api.reload)),
    ]
