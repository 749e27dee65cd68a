"""The inspect stage: read the body (bounded), parse JSON, and the request path's part of
the prompt's fingerprint (:class:`~gateway.model.BudgetPrint`): the token estimate, and the
novelty cell when a novelty budget needs it (:func:`cell_need`).

The rest of the fingerprint (skeleton hash, frame, SimHash, exact hash, elicitation, system
prompt: what detection and linking read) is computed after the response by
:class:`DetectionPrints` for the settle stage (reusing the skeleton the cell was computed
from, and the cell), and only when detection or template links need it for the caller's tier:
only the template frame when linking alone reads it.
Fingerprints are pure (see ``gateway.fingerprints``); the prompt text itself never leaves
the gateway except to go upstream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import orjson
from aiohttp import web

from gateway.apis import Api, api_of
from gateway.errors import GatewayError, InvalidRequest
from gateway.fingerprints.fingerprint import BudgetPart
from gateway.fingerprints.hashing import stable_hash64
from gateway.fingerprints.request import PromptParts, prompt_parts
from gateway.fingerprints.skeleton import Skeleton
from gateway.memo import BoundedMemo
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.policy.loader import LoadedPolicy
from gateway.proxy.context import RequestContext
from gateway.proxy.fields import check_fields

_JSON_ENDPOINTS = frozenset(("chat", "completions", "embeddings"))


class PromptInspector(Protocol):
    def budget_part(
        self,
        body: dict[str, object],
        endpoint: str,
        *,
        cell: bool,
        parts: PromptParts | None = None,
    ) -> BudgetPart: ...

    def fingerprint(
        self,
        body: dict[str, object],
        endpoint: str,
        skeleton: Skeleton | None = None,
        cell: int | None = None,
        *,
        frame_only: bool = False,
        parts: PromptParts | None = None,
    ) -> Fingerprint: ...

    def features(
        self,
        body: dict[str, object],
        endpoint: str,
        headers: dict[str, str],
        client_stack: int,
        parts: PromptParts | None = None,
        api: Api | None = None,
    ) -> RequestFeatures: ...


def cell_need(policy: Callable[[], LoadedPolicy]) -> Callable[[Identity | None], bool]:
    """Whether the request path computes a caller's novelty cell, as the policy in effect
    compiled it (:meth:`gateway.policy.compiled.CompiledPolicy.needs_cell`); no identity:
    yes."""

    def needed(identity: Identity | None) -> bool:
        return identity is None or policy().compiled.needs_cell(identity.tier)

    return needed


def estimate_only(est_tokens: int) -> Fingerprint:
    """No hashes, just the prompt's token estimate."""
    return Fingerprint(
        exact=0, skeleton=0, simhash=0, bands=(0, 0, 0, 0), cell=0, system=0, words=0,
        est_tokens=est_tokens, elicitation=0.0,
    )  # fmt: skip


def client_stack(headers: Mapping[str, str]) -> int:
    """The client software's hash (0 when no such header is sent): the User-Agent's first
    token (``OpenAI/Python``, ``python-requests/2.32.3``; every browser is ``Mozilla/5.0``)
    and the SDK's ``X-Stainless-Lang`` and ``X-Stainless-Package-Version``. Platform, runtime
    and browser versions are left out: an app whose end users' browsers call the API send many
    of those, all with one SDK. A harvester drawing its SDK and version afresh per request
    shows as churn (see :mod:`gateway.detection.stacks`)."""
    agent = headers.get("User-Agent", "").split(" ", 1)[0]
    lang = headers.get("X-Stainless-Lang", "")
    version = headers.get("X-Stainless-Package-Version", "")
    if not (agent or lang or version):
        return 0
    key = (agent, lang, version)
    found = _STACKS.get(key)
    if found is None:  # a client's stack recurs: hashed once, remembered (short ones)
        found = stable_hash64("\x1f".join(key), b"dg-client-stack") or 1
        if len(agent) + len(lang) + len(version) <= _STACK_CHARS:
            _STACKS.put(key, found)
    return found


_STACKS_REMEMBERED = 4_096  # client stacks whose hash is kept (then forgotten all at once)
_STACK_CHARS = 256  # longer header values are hashed every time, never kept
# a module global: client_stack is a plain function (tests and the proxy call it), no owner
_STACKS: BoundedMemo[tuple[str, str, str], int] = BoundedMemo(_STACKS_REMEMBERED)


class DetectionPrints:
    """The fingerprint of a served request, computed after the response (the settle stage's
    observers: detection and linking), as much of it as the policy in effect needs for the
    caller's tier (:meth:`~gateway.policy.compiled.CompiledPolicy.fingerprint_need`): the
    whole of it (detection), the template frame (linking alone), else the token estimate
    alone. None for a request without a JSON prompt."""

    def __init__(self, inspector: PromptInspector, policy: Callable[[], LoadedPolicy]) -> None:
        self._inspector = inspector
        self._policy = policy

    def __call__(self, ctx: RequestContext) -> Fingerprint | None:
        prompt, payload, identity = ctx.prompt, ctx.payload, ctx.identity
        if prompt is None or payload is None:
            return None
        tier = identity.tier if identity is not None else None
        need = self._policy().compiled.fingerprint_need(tier)
        if need == "none":
            return estimate_only(prompt.est_tokens)
        # the cell, like the skeleton, is the request path's (the same value, not made twice);
        # linking alone reads only the template frame
        return self._inspector.fingerprint(
            payload,
            ctx.endpoint,
            ctx.prompt_skeleton,
            prompt.cell,
            frame_only=need == "frame",
            parts=ctx.prompt_parts,
        )


class InspectStage:
    name = "inspect"

    def __init__(
        self,
        inspector: PromptInspector,
        *,
        body_limit: int,
        route_prefix: str,
        needs_cell: Callable[[Identity | None], bool] | None = None,
    ) -> None:
        self._inspector = inspector
        self._limit = body_limit
        self._prefix = route_prefix
        self._needs_cell = needs_cell

    async def run(self, request: web.Request, ctx: RequestContext) -> None:
        ctx.api = api_of(ctx.path, self._prefix)
        ctx.body = await self._read(request)
        if request.method != "POST" or ctx.endpoint not in _JSON_ENDPOINTS:
            ctx.features = RequestFeatures(endpoint=ctx.endpoint, model="")
            return None
        try:
            payload = orjson.loads(ctx.body) if ctx.body else None
        except orjson.JSONDecodeError:  # also invalid UTF-8
            raise InvalidRequest(
                "We could not parse the JSON body of your request. The OpenAI API expects a "
                "JSON payload.",
                code="invalid_json",
            ) from None
        if not isinstance(payload, dict):
            raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
        check_fields(payload, ctx.endpoint)
        ctx.payload = payload
        # the prompt parts, read once: for the features, the budgets' part and (after the
        # response) the detection part
        parts = ctx.prompt_parts = prompt_parts(payload, ctx.endpoint)
        headers = {"x-stainless-retry-count": request.headers.get("x-stainless-retry-count", "")}
        stack = client_stack(request.headers)
        ctx.features = self._inspector.features(
            payload, ctx.endpoint, headers, stack, parts, ctx.api
        )
        cell = self._needs_cell is None or self._needs_cell(ctx.identity)
        part = self._inspector.budget_part(payload, ctx.endpoint, cell=cell, parts=parts)
        ctx.prompt, ctx.prompt_skeleton = part.print, part.skeleton
        return None

    async def _read(self, request: web.Request) -> bytes:
        declared = request.content_length
        if declared is not None and declared > self._limit:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > self._limit:
                    raise self._too_large()
                chunks.append(chunk)
        except web.RequestPayloadError:  # broken chunked framing or Content-Encoding
            raise InvalidRequest(
                "The request body could not be read (invalid framing or content encoding).",
                code="invalid_body",
                headers={"Connection": "close"},
            ) from None
        return b"".join(chunks)

    def _too_large(self) -> GatewayError:
        return GatewayError(
            f"The request body is larger than this gateway accepts ({self._limit} bytes).",
            status=413,
            type="invalid_request_error",
            code="request_too_large",
        )
