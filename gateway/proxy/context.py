"""The per-request state that flows through the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.apis import OTHER, Api
from gateway.fingerprints.request import PromptParts
from gateway.fingerprints.skeleton import Skeleton
from gateway.model import (
    BudgetPrint,
    BudgetSpec,
    Charge,
    Decision,
    Fingerprint,
    Identity,
    RequestFeatures,
)
from gateway.proxy.usage import Usage, answer_from_json, usage_from_json


@dataclass(slots=True)
class RequestContext:
    """Mutable, one per request; stages fill it in order. Never logged whole (no prompts)."""

    request_id: str  # the gateway's own (lease id, store calls); never the client's
    started: float  # perf_counter at arrival
    now: float  # clock time at arrival
    client_request_id: str | None = None  # the client's x-request-id, when printable ASCII
    client_ip: str = ""
    path: str = ""
    identity: Identity | None = None
    tier: str = ""
    cluster_id: str = ""
    cluster_size: int = 1
    cluster_soft: bool = False  # linked by soft evidence only: budgets as if alone
    api: Api = OTHER  # the API of the path (gateway.apis): what differs between them
    body: bytes = b""
    payload: dict[str, Any] | None = None
    body_changed: bool = False
    features: RequestFeatures | None = None
    prompt_parts: PromptParts | None = None  # the body's prompt parts, read once
    prompt: BudgetPrint | None = None  # the request path's part of the fingerprint
    prompt_skeleton: Skeleton | None = None  # what it was computed from (reused after)
    fingerprint: Fingerprint | None = None  # the detection part, computed after the response
    charges: tuple[Charge, ...] = ()
    token_reservations: tuple[tuple[BudgetSpec, int], ...] = ()
    concurrency: tuple[BudgetSpec, ...] = ()
    decision: Decision | None = None
    acquired: bool = False
    degraded: tuple[str, ...] = ()
    injected_usage: bool = False  # we asked the upstream for the usage chunk; strip it
    response_started: bool = False
    upstream_status: int | None = None
    upstream_latency: float | None = None
    usage: Usage | None = None
    answer_id: str = ""  # a Responses API answer's id (gateway.fingerprints.chain)
    upstream_body: bytes | None = None  # a whole answer whose usage is not read yet
    streamed_chars: int = 0
    client_disconnected: bool = False
    upstream_broken: bool = False
    status: int = 0
    error_code: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        """The prompt's kind, the api's (``"chat"`` also for the Responses API)."""
        return self.api.kind

    @property
    def echoed_id(self) -> str:
        """The ``x-request-id`` of the response and the upstream request: the client's
        when it sent an acceptable one, else the gateway's own."""
        return self.client_request_id or self.request_id

    def read_usage(self) -> None:
        """The usage of a whole upstream answer, read once (after the response was written,
        by the pipeline's finish): into ``usage``."""
        body, self.upstream_body = self.upstream_body, None
        if body is None:
            return
        if self.api.stored:  # its id is what a later previous_response_id names
            self.usage, self.answer_id = answer_from_json(body)
        else:
            self.usage = usage_from_json(body)

    @property
    def account(self) -> str:
        return self.identity.account_id if self.identity else ""
