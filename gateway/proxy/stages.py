"""The small stages: authenticate, identify, forward."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aiohttp import web

from gateway.clusters.types import ClusterInfo
from gateway.http.headers import quota_headers
from gateway.model import Identity
from gateway.policy.loader import LoadedPolicy
from gateway.proxy.context import RequestContext
from gateway.proxy.forward import Forwarder


class Authenticator(Protocol):
    async def authenticate(self, headers: Mapping[str, str], peer_ip: str) -> Identity: ...


class ClusterLookup(Protocol):
    async def get(self, account: str) -> ClusterInfo: ...


class AuthenticateStage:
    name = "authenticate"

    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        peer = request.remote or ""
        ctx.client_ip = peer
        ctx.identity = await self._auth.authenticate(request.headers, peer)
        ctx.client_ip = ctx.identity.client_ip or peer
        return None


class IdentifyStage:
    """Tier (the identity's, else the policy default) and linked-account cluster."""

    name = "identify"

    def __init__(self, clusters: ClusterLookup, policy: PolicyProvider) -> None:
        self._clusters = clusters
        self._policy = policy

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        identity = ctx.identity
        assert identity is not None
        policy = self._policy().policy
        tier = identity.tier
        ctx.tier = tier if tier is not None and tier in policy.tiers else policy.defaults.tier
        info = await self._clusters.get(identity.account_id)
        ctx.cluster_id, ctx.cluster_size, ctx.cluster_soft = info.cluster_id, info.size, info.soft
        return None


class ForwardStage:
    name = "forward"

    def __init__(self, forwarder: Forwarder) -> None:
        self._forwarder = forwarder

    async def run(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        headers = quota_headers(ctx.decision) if ctx.decision else {}
        if ctx.extra_headers:
            headers = {**headers, **ctx.extra_headers}
        return await self._forwarder.forward(request, ctx, ctx.body, headers)


class PolicyProvider(Protocol):
    def __call__(self) -> LoadedPolicy: ...
