"""The forward stage: send the request upstream and relay the answer, streaming included.

SSE and chunked answers are relayed event by event as they arrive, never buffered whole.
A client that disconnects mid-stream cancels the upstream request. Connect and idle-read
timeouts apply, but no total timeout that would cut a long generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping

import aiohttp
from aiohttp import web
from yarl import URL

from gateway.errors import UpstreamError, UpstreamTimeout
from gateway.http.paths import encoded_path
from gateway.http.request_ids import REQUEST_ID_HEADER
from gateway.http.responses import sse_error_event
from gateway.proxy.context import RequestContext
from gateway.proxy.hop_headers import client_response_headers, upstream_request_headers
from gateway.proxy.sse import SseTap


class Forwarder:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        upstream: str,
        *,
        upstream_key: str | None,
        route_prefix: str,
        connect_timeout: float,
        read_timeout: float,
        account_header: str | None,
    ) -> None:
        self._session = session
        self._base = upstream.rstrip("/")
        # A base that already ends with the route prefix (https://api.openai.com/v1) is not
        # doubled: /v1/chat/completions -> https://api.openai.com/v1/chat/completions.
        prefix = route_prefix.rstrip("/")
        self._strip = prefix if prefix and self._base.endswith(prefix) else ""
        self._key = upstream_key
        self._account_header = account_header
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )

    def url_for(self, path: str, raw_query: str) -> URL:
        """The upstream URL of ``path`` (decoded, accepted by the path rule) and the query
        exactly as the client sent it; sent as built, not normalised again."""
        if self._strip and path.startswith(self._strip):
            path = path[len(self._strip) :]
        target = self._base + encoded_path(path) + (f"?{raw_query}" if raw_query else "")
        return URL(target, encoded=True)

    async def forward(
        self,
        request: web.Request,
        ctx: RequestContext,
        body: bytes,
        quota_headers: Mapping[str, str],
    ) -> web.StreamResponse:
        # the upstream sees the id the client gets back, never a raw client value
        extra: list[tuple[str, str]] = [(REQUEST_ID_HEADER, ctx.echoed_id)]
        if self._account_header and ctx.identity is not None:
            extra.append((self._account_header, ctx.identity.account_id))
        headers = upstream_request_headers(
            request.headers,
            client_ip=ctx.client_ip,
            scheme=request.scheme,
            upstream_key=self._key,
            extra=extra,
        )
        url = self.url_for(ctx.path, request.rel_url.raw_query_string)
        started = time.perf_counter()
        try:
            upstream = await self._session.request(
                request.method,
                url,
                data=body or None,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except TimeoutError:
            raise UpstreamTimeout("The upstream model server timed out.") from None
        except aiohttp.ClientError:
            raise UpstreamError("The upstream model server could not be reached.") from None
        ctx.upstream_status = upstream.status
        try:
            content_type = upstream.headers.get("Content-Type", "")
            if content_type.startswith("text/event-stream"):
                return await self._relay_stream(request, ctx, upstream, quota_headers, started)
            return await self._relay_whole(ctx, upstream, quota_headers, started)
        except asyncio.CancelledError:
            ctx.client_disconnected = True
            raise
        finally:
            if ctx.client_disconnected or ctx.upstream_broken:
                upstream.close()  # drop the connection: the upstream stops generating
            else:
                upstream.release()

    async def _relay_whole(
        self,
        ctx: RequestContext,
        upstream: aiohttp.ClientResponse,
        quota_headers: Mapping[str, str],
        started: float,
    ) -> web.Response:
        try:
            data = await upstream.read()
        except TimeoutError:
            raise UpstreamTimeout("The upstream model server timed out.") from None
        except aiohttp.ClientError:
            raise UpstreamError("The upstream model server closed the connection.") from None
        ctx.upstream_latency = time.perf_counter() - started
        if upstream.status < 400:
            ctx.upstream_body = data  # its usage is read after the response is written
        headers = client_response_headers(upstream.headers)
        headers.update(quota_headers)
        return web.Response(status=upstream.status, body=data, headers=headers)

    async def _relay_stream(
        self,
        request: web.Request,
        ctx: RequestContext,
        upstream: aiohttp.ClientResponse,
        quota_headers: Mapping[str, str],
        started: float,
    ) -> web.StreamResponse:
        headers = client_response_headers(upstream.headers)
        headers.update(quota_headers)
        response = web.StreamResponse(status=upstream.status, headers=headers)
        await response.prepare(request)  # status and headers go out before the first byte
        ctx.response_started = True
        tap = SseTap(drop_usage_chunk=ctx.injected_usage, typed_events=ctx.api.typed_events)
        first = True
        try:
            async for data in upstream.content.iter_any():
                if first:
                    ctx.upstream_latency = time.perf_counter() - started
                    first = False
                out = tap.feed(data)
                if out:
                    await response.write(out)
            rest = tap.flush()
            if rest:
                await response.write(rest)
            await response.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            ctx.client_disconnected = True  # the finally in forward() releases the upstream
        except (TimeoutError, aiohttp.ClientError):
            ctx.upstream_broken = True
            await self._abort_stream(response)
        finally:
            ctx.usage = tap.usage
            ctx.answer_id = tap.response_id
            ctx.streamed_chars = tap.content_chars
            if first:
                ctx.upstream_latency = time.perf_counter() - started
        return response

    @staticmethod
    async def _abort_stream(response: web.StreamResponse) -> None:
        error = UpstreamError("The upstream model server stopped mid-stream.")
        with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
            await response.write(sse_error_event(error))
