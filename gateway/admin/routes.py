"""Admin API (bearer ``GATEWAY_ADMIN_TOKEN``) and Prometheus ``/metrics``.

Operators see reasons and evidence here; customers never do. The routes are those of
:data:`gateway.admin.openapi.OPERATIONS`; every error is an OpenAI-style JSON body with a
4xx status, or 503 when the store is down (see :mod:`gateway.admin.middleware`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.admin import inputs
from gateway.admin.openapi import OPERATIONS, Operation, document
from gateway.admin.views import Views
from gateway.detection.types import entity_of_account, entity_of_cluster
from gateway.errors import GatewayError
from gateway.model import Level

if TYPE_CHECKING:
    from gateway.state import GatewayState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_LEVELS = {level.label: level for level in Level}


def _authorized(request: web.Request, token: str | None) -> bool:
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(
        given[7:].encode("utf-8", "surrogateescape"), token.encode()
    )


class AdminApi:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.views = Views(state)

    def guard(self, handler: Handler, auth: str) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            token = self.state.settings.admin_token
            if auth == "none" or (auth == "if-set" and not token):
                return await handler(request)
            if not _authorized(request, token):
                message = (
                    "admin API disabled: set GATEWAY_ADMIN_TOKEN"
                    if not token
                    else "missing or invalid admin bearer token"
                )
                raise GatewayError(
                    message, status=401, type="invalid_request_error", code="invalid_admin_token"
                )
            return await handler(request)

        return guarded

    async def metrics(self, request: web.Request) -> web.Response:
        await self.state.metrics.sample_store(self.state.backend.budgets)
        return web.Response(
            body=self.state.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"}
        )

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(document(tuple(self.state.holder.current.policy.tiers)))

    async def account(self, request: web.Request) -> web.Response:
        view = await self.views.account(request.match_info["id"], request.query.get("tier"))
        return web.json_response(view)

    async def cluster(self, request: web.Request) -> web.Response:
        view = await self.views.cluster(request.match_info["id"], request.query.get("tier"))
        return web.json_response(view)

    async def link(self, request: web.Request) -> web.Response:
        return await self._link_or_unlink(request, link=True)

    async def unlink(self, request: web.Request) -> web.Response:
        return await self._link_or_unlink(request, link=False)

    async def _link_or_unlink(self, request: web.Request, *, link: bool) -> web.Response:
        body = await inputs.json_object(request)
        a, b = inputs.text(body, "a"), inputs.text(body, "b")
        reason = inputs.reason(body)
        actor = inputs.text(body, "actor", required=False) or "admin"
        assert a is not None and b is not None
        service = self.state.cluster_service
        result = await (service.link if link else service.unlink)(a, b, reason, actor)
        return web.json_response(result)

    async def account_level(self, request: web.Request) -> web.Response:
        return await self._level(request, "accounts")

    async def cluster_level(self, request: web.Request) -> web.Response:
        return await self._level(request, "clusters")

    async def _level(self, request: web.Request, kind: str) -> web.Response:
        ident = request.match_info["id"]
        body = await inputs.json_object(request)
        name = body.get("level")
        if not isinstance(name, str) or name not in _LEVELS:
            raise inputs.bad(f"level must be one of {', '.join(_LEVELS)}", "level", "invalid_level")
        reason = inputs.reason(body)
        actor = inputs.text(body, "actor", required=False) or "admin"
        ttl = inputs.ttl(body)
        engine = self.state.detection
        if kind == "accounts":
            entity = entity_of_account(ident)
            cluster_id = (await self.state.clusters.get(ident)).cluster_id
        else:
            entity, cluster_id = entity_of_cluster(ident), ident
        if name == "none":
            await engine.clear(entity, actor, reason, cluster_id=cluster_id)
        else:
            await engine.pin(entity, _LEVELS[name], ttl, actor, reason, cluster_id=cluster_id)
        return web.json_response(await engine.view(entity, cluster_id=cluster_id))

    async def audit(self, request: web.Request) -> web.Response:
        limit = inputs.query_int(request, "limit", 100, 1, inputs.MAX_AUDIT)
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
        version = self.state.policy_version()
        if not result.ok:
            raise GatewayError(
                f"the policy files are invalid ({len(result.errors)} problems); "
                f"policy {version} keeps running",
                status=422,
                type="invalid_request_error",
                code="invalid_policy",
                extra={"errors": list(result.errors), "version": version},
            )
        return web.json_response({"ok": True, "version": version, "errors": []})


def _route(api: AdminApi, op: Operation) -> web.RouteDef:
    return web.route(op.method.upper(), op.path, api.guard(getattr(api, op.handler), op.auth))


def admin_routes(state: GatewayState) -> list[web.RouteDef]:
    api = AdminApi(state)
    return [_route(api, op) for op in OPERATIONS]
