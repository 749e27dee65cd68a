"""The small stages: check the path, authenticate, identify, forward."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aiohttp import web

from gateway.clusters.types import ClusterInfo
from gateway.http.paths import checked_path
from gateway.http.quota_headers import quota_headers
from gateway.http.request_ids import REQUEST_ID_HEADER
from gateway.model import Identity
from gateway.policy.loader import LoadedPolicy
from gateway.proxy.context import RequestContext
from gateway.proxy.forward import Forwarder


class Authenticator(Protocol):
    async def authenticate(self, headers: Mapping[str, str], peer_ip: str) -> Identity: ...


class ClusterLookup(Protocol):
    async def get(self, account: str) -> ClusterInfo: ...


class PathStage:
    """First: a path that would leave the route prefix is refused before anything is spent
    (see :mod:`gateway.http.paths`); later stages and the forwarder use ``ctx.path``."""

    name = "path"

    def __init__(self, route_prefix: str) -> None:
        self._prefix = route_prefix

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        ctx.path = checked_path(request.rel_url.raw_path, self._prefix)
        return None


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
        # a streamed answer's headers go out before the pipeline could set the id
        headers = {**headers, **ctx.extra_headers, REQUEST_ID_HEADER: ctx.echoed_id}
        return await self._forwarder.forward(request, ctx, ctx.body, headers)


class PolicyProvider(Protocol):
    def __call__(self) -> LoadedPolicy: ...
