"""The HTTP side of challenges: redeem a ``Gateway-PoW`` proof, or answer 403 with a new
proof-of-work challenge (or a step-up ``verification_required``).

The cryptography (stateless HMAC-signed tokens, hash work, replay protection, clearance)
lives in :mod:`gateway.challenges.tokens`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from gateway.challenges.tokens import ChallengeIssuer, www_authenticate
from gateway.detection.engine import DetectionEngine
from gateway.errors import Forbidden, GatewayError
from gateway.http.refusals import refusal_error
from gateway.model import Level
from gateway.observability.metrics import Metrics

if TYPE_CHECKING:  # the request path calls the gate; the gate never imports it
    from gateway.proxy.context import RequestContext

log = structlog.get_logger("gateway.challenges")


class ChallengeGate:
    def __init__(self, issuer: ChallengeIssuer, engine: DetectionEngine, metrics: Metrics) -> None:
        self._issuer = issuer
        self._engine = engine
        self._metrics = metrics

    async def redeem(self, proof: str, request: web.Request, ctx: RequestContext) -> bool:
        """Redeem a proof for the request it was issued on: account, method and path (the
        path as routed, query string aside); a proof for another request clears nothing."""
        redemption = await self._issuer.redeem(
            proof, ctx.account, method=request.method, path=ctx.path, cluster_id=ctx.cluster_id
        )
        self._metrics.challenges.labels("solved" if redemption.ok else "rejected").inc()
        if not redemption.ok:
            log.info("pow_rejected", request_id=ctx.request_id, reason=redemption.reason)
        return redemption.ok

    async def blocked(self, ctx: RequestContext, detection: Any) -> GatewayError:
        """403 for a blocked account: step-up verification when that is what holds it."""
        verification = detection.verification
        if verification.enabled and await self._engine.requires_verification(ctx.account):
            self._metrics.challenges.labels("verification_required").inc()
            extra: dict[str, object] = {}
            if verification.url:
                extra["verification_url"] = verification.url
            return Forbidden(
                "Additional verification is required for this account before it can continue."
                + (f" Please visit {verification.url}." if verification.url else ""),
                code="verification_required",
                extra=extra,
            )
        assert ctx.decision is not None
        return refusal_error(ctx.decision)

    def challenge(self, request: web.Request, ctx: RequestContext, detection: Any) -> GatewayError:
        settings = detection.challenge
        level = ctx.decision.level if ctx.decision else Level.CHALLENGE
        difficulty = settings.base_difficulty + (level - Level.CHALLENGE) * 2
        difficulty = min(settings.max_difficulty, difficulty)
        issued = self._issuer.issue(ctx.account, request.method, ctx.path, difficulty)
        self._metrics.challenges.labels("issued").inc()
        return Forbidden(
            "Please solve the proof-of-work challenge and repeat the request with a "
            f"{issued.header} header (see error.challenge).",
            code="challenge_required",
            headers={"WWW-Authenticate": www_authenticate(issued, settings.realm)},
            extra={"challenge": issued.to_json()},
        )
