"""The OpenAI-compatible mock upstream: an aiohttp app, fast enough to be a benchmark baseline.

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/completions``, ``POST /v1/responses``
(:mod:`gateway.mock.responses`), ``POST /v1/embeddings``, ``GET /v1/models``,
``GET /v1/models/{id}``, ``GET /mock/stats``, ``POST /mock/reset``.
Behaviour is set per app (:class:`MockConfig`) and per request with ``x-mock-*`` headers
(see :mod:`gateway.mock.config`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.memo import BoundedMemo
from gateway.mock import bodies, catalog
from gateway.mock.config import MAX_HANG_SECONDS, MockConfig, RequestHooks
from gateway.mock.params import BadRequest, CompletionParams, responses_params
from gateway.mock.responses import Reply, StoredResponses
from gateway.mock.stats import MockStats
from gateway.mock.streaming import StreamPlan, plan_stream, write_paced, write_stream

STATS_KEY = web.AppKey("mock_stats", MockStats)
_JSON = "application/json"
_CACHE_SIZE = 4096  # distinct requests remembered (then forgotten all at once)
_CACHE_BODY_MAX = 64 * 1024  # larger bodies are answered without being remembered
_Handler = Callable[[web.Request, RequestHooks], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A distinct request's answer, ready to render: a JSON template or a stream plan."""

    template: str | None
    plan: StreamPlan | None


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means "
            "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
            "payload, but what was sent was not valid JSON.)"
        ) from None


def _dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


def upstream_headers(seed: int) -> dict[str, str]:
    """Headers a real upstream sends on every answer; the gateway must strip the last two kinds."""
    return {
        "openai-organization": "mock-org",
        "openai-version": "2020-10-01",
        "x-content-type-options": "nosniff",
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-remaining-tokens": "29999000",
        "x-ratelimit-reset-requests": "6ms",
        "x-ratelimit-reset-tokens": "2ms",
        "set-cookie": f"__mock_bm=s{seed & 0xFFFF:04x}; path=/; HttpOnly; Secure; SameSite=None",
    }


class MockUpstream:
    """The handlers and the state of one mock app."""

    def __init__(self, config: MockConfig, stats: MockStats) -> None:
        self.config = config
        self.stats = stats
        self.closing = asyncio.Event()
        self._defaults = RequestHooks.defaults(config)
        self._ids = itertools.count(1)
        self._tag = f"{config.seed & 0xFFFFFF:06x}"
        self._headers = upstream_headers(config.seed)
        self._cache: BoundedMemo[tuple[bytes, RequestHooks, bool], _Prepared] = BoundedMemo(
            _CACHE_SIZE
        )
        self._answers: BoundedMemo[
            tuple[bytes, RequestHooks], tuple[CompletionParams, bodies.Answer]
        ] = BoundedMemo(_CACHE_SIZE)
        self._stored = StoredResponses()

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-mock{self._tag}{next(self._ids):012x}"

    def _respond(self, payload: Any, status: int = 200) -> web.Response:
        headers = dict(self._headers)
        headers["x-request-id"] = self._next_id("req")
        return web.Response(
            text=_dumps(payload), status=status, content_type=_JSON, headers=headers
        )

    def _error(
        self,
        status: int,
        message: str,
        type_: str,
        param: str | None = None,
        code: str | None = None,
    ) -> web.Response:
        return self._respond(bodies.error_body(message, type_, code, param), status)

    def endpoint(self, name: str, handler: _Handler) -> Callable[[web.Request], Any]:
        """Wrap a handler with stats, latency, hang and status hooks."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            self.stats.begin(name, request.method, request.path, request.headers)
            status = 500
            try:
                if request.can_read_body:
                    self.stats.body(await request.read())  # read() caches: handlers reuse it
                hooks = RequestHooks.from_headers(request.headers, self.config) or self._defaults
                if hooks.latency_s > 0:
                    await asyncio.sleep(hooks.latency_s)
                if hooks.hang:
                    self.stats.hangs += 1
                    await self._hang()
                    status = 503
                    return self._error(503, "The mock stopped hanging.", "server_error")
                if hooks.status is not None:
                    status = hooks.status
                    response = self._respond(bodies.status_error(status), status)
                    if status == 429:
                        response.headers["retry-after"] = "1"
                    return response
                result = await handler(request, hooks)
                status = result.status
                return result
            except BadRequest as exc:
                status = 400
                return self._error(400, exc.message, "invalid_request_error", exc.param, exc.code)
            finally:
                self.stats.end(status)

        return wrapped

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), MAX_HANG_SECONDS)

    async def _json(self, request: web.Request) -> Any:
        return _parse(await request.read())

    async def chat(self, request: web.Request, hooks: RequestHooks) -> web.StreamResponse:
        return await self._complete(request, hooks, chat=True)

    async def completions(self, request: web.Request, hooks: RequestHooks) -> web.StreamResponse:
        return await self._complete(request, hooks, chat=False)

    def _prepare(self, raw: bytes, hooks: RequestHooks, chat: bool) -> _Prepared:
        """Parse and generate once per distinct (body, hooks): a benchmark repeats bodies."""
        key = (raw, hooks, chat)
        prepared = self._cache.get(key)
        if prepared is None:
            params = CompletionParams.parse(_parse(raw), chat)
            answer = bodies.compose(params, hooks, self.config.seed)
            if params.stream:
                prepared = _Prepared(None, plan_stream(params, hooks, answer, chat))
            else:
                prepared = _Prepared(bodies.completion_template(chat, params.model, answer), None)
            if len(raw) <= _CACHE_BODY_MAX:
                self._cache.put(key, prepared)
        return prepared

    async def _complete(
        self, request: web.Request, hooks: RequestHooks, chat: bool
    ) -> web.StreamResponse:
        prepared = self._prepare(await request.read(), hooks, chat)
        ident = self._next_id("chatcmpl" if chat else "cmpl")
        created = int(self.config.clock.now())
        if prepared.plan is not None:
            plan, delay = prepared.plan, hooks.chunk_delay_s
            return await self._stream(
                request, lambda r: write_stream(r, plan, ident, created, delay)
            )
        assert prepared.template is not None
        headers = dict(self._headers)
        headers["x-request-id"] = self._next_id("req")
        text = bodies.fill_template(prepared.template, ident, chat, created)
        return web.Response(text=text, content_type=_JSON, headers=headers)

    async def _stream(
        self, request: web.Request, write: Callable[[web.StreamResponse], Awaitable[None]]
    ) -> web.StreamResponse:
        """An event stream: the response prepared, ``write`` fills it (a client gone
        midway is counted, not raised)."""
        response = await self._stream_response(request)
        try:
            await write(response)
        except ConnectionResetError:
            self.stats.stream_disconnects += 1
        return response

    async def _stream_response(self, request: web.Request) -> web.StreamResponse:
        headers = dict(self._headers)
        headers["x-request-id"] = self._next_id("req")
        headers["content-type"] = "text/event-stream; charset=utf-8"
        headers["cache-control"] = "no-cache"
        response = web.StreamResponse(status=200, headers=headers)
        self.stats.streams += 1
        await response.prepare(request)
        return response

    async def responses(self, request: web.Request, hooks: RequestHooks) -> web.StreamResponse:
        """``POST /v1/responses``: the chat answer as a Responses API ``response``."""
        raw = await request.read()
        key = (raw, hooks)
        found = self._answers.get(key)
        if found is None:
            params = responses_params(_parse(raw))
            found = (params, bodies.compose(params, hooks, self.config.seed))
            if len(raw) <= _CACHE_BODY_MAX:
                self._answers.put(key, found)
        params, answer = found
        previous = self._stored.previous_of(raw)
        ident, item = self._next_id("resp"), self._next_id("msg")
        self._stored.keep(ident, raw)
        created = int(self.config.clock.now())
        reply = Reply(
            ident, item, created, params, answer, usage_hidden=hooks.no_usage, previous=previous
        )
        if not params.stream:
            headers = dict(self._headers)
            headers["x-request-id"] = self._next_id("req")
            return web.Response(text=reply.whole(), content_type=_JSON, headers=headers)
        groups = reply.stream(hooks.chunks)
        return await self._stream(request, lambda r: write_paced(r, groups, hooks.chunk_delay_s))

    async def embeddings(self, request: web.Request, hooks: RequestHooks) -> web.StreamResponse:
        body = await self._json(request)
        dims = self.config.embedding_dimensions
        return self._respond(catalog.embeddings(body, dims, self.config.seed))

    async def models(self, request: web.Request, hooks: RequestHooks) -> web.StreamResponse:
        return self._respond(catalog.models_list())

    async def model(self, request: web.Request, hooks: RequestHooks) -> web.StreamResponse:
        model_id = request.match_info["model"]
        found = catalog.find_model(model_id)
        if found is None:
            return self._error(
                404,
                f"The model '{model_id}' does not exist",
                "invalid_request_error",
                "model",
                "model_not_found",
            )
        return self._respond(found)

    async def stats_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.snapshot())

    async def reset(self, request: web.Request) -> web.Response:
        self.stats.reset()
        return web.json_response({"reset": True})

    async def on_shutdown(self, app: web.Application) -> None:
        self.closing.set()


def build_mock_app(*, config: MockConfig | None = None, **options: Any) -> web.Application:
    """The mock upstream app. Pass a :class:`MockConfig`, or its fields as keywords
    (``chunk_delay_ms``, ``latency_ms``, ``chunks``, ``completion_tokens``, ``seed``, ``clock``...).
    """
    config = config or MockConfig(**options)
    stats = MockStats()
    mock = MockUpstream(config, stats)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATS_KEY] = stats
    app.on_shutdown.append(mock.on_shutdown)
    app.router.add_post("/v1/chat/completions", mock.endpoint("chat.completions", mock.chat))
    app.router.add_post("/v1/completions", mock.endpoint("completions", mock.completions))
    app.router.add_post("/v1/responses", mock.endpoint("responses", mock.responses))
    app.router.add_post("/v1/embeddings", mock.endpoint("embeddings", mock.embeddings))
    app.router.add_get("/v1/models", mock.endpoint("models", mock.models))
    app.router.add_get("/v1/models/{model}", mock.endpoint("models.retrieve", mock.model))
    app.router.add_get("/mock/stats", mock.stats_view)
    app.router.add_post("/mock/reset", mock.reset)
    return app
