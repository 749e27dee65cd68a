"""The HTTP/1 connection of both listeners, hardened at the edge.

aiohttp's :class:`~aiohttp.web_protocol.RequestHandler` parses requests and answers the
ones it cannot parse itself: with a plain-text body that quotes the offending bytes, and a
log line at ERROR with the whole raw request (credentials and prompt text included). It
has no request-head timeout and no body idle timeout. :class:`EdgeRequestHandler` changes
exactly that:

* parser errors and unhandled errors are answered with the OpenAI-style JSON body (nothing
  of the request quoted) and logged as one structlog line: ``http_error`` with ``status``,
  ``error`` (the exception class), ``peer`` and ``listener``; never header values or body;
* aiohttp's own plain-text answers (no route, unknown ``Expect`` ...) get the JSON body;
* a request line with an HTTP version other than 1.0 or 1.1 is answered 400
  (``http_version_not_supported``);
* a request head (request line and headers) not complete ``header`` seconds after its first
  byte (after the connection opened, for the first request) is answered 408 and the
  connection closed (slowloris);
* a body that sends no byte for ``body`` seconds while the gateway is reading: whoever
  reads it gets :class:`ClientBodyTimeout`, answered 408, and the connection closes.
  Time while the gateway itself stopped reading (backpressure) does not count, and a slow
  body that keeps sending is never cut.

aiohttp has no supported hook for these, so this is the one module that subclasses its
internals (``RequestHandler``, its message queue, ``_ErrInfo``, ``Server``, ``AppRunner``);
``tests/integration/test_http_edge.py`` fails if an aiohttp upgrade breaks it.
"""

from __future__ import annotations

import asyncio
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from gateway.errors import GatewayError
from gateway.http.responses import error_response

log = structlog.get_logger("gateway.http")

_VERSIONS = frozenset({(1, 0), (1, 1)})


class BadHttpRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "bad_request"
    retryable = False


class ClientHeaderTimeout(GatewayError):
    status = 408
    type = "invalid_request_error"
    code = "request_timeout"


class ClientBodyTimeout(GatewayError):
    status = 408
    type = "invalid_request_error"
    code = "request_timeout"


class HttpVersionNotSupported(GatewayError):
    status = 400  # not 505: the gateway answers a client's fault with a 4xx, never a 5xx
    type = "invalid_request_error"
    code = "http_version_not_supported"
    retryable = False


@dataclass(frozen=True, slots=True)
class EdgeOptions:
    header_timeout: float  # seconds to receive a whole request head
    body_timeout: float  # seconds without a byte of a body being read
    listener: str = "api"  # named in log lines


_CLIENT_FAULTS = (HttpProcessingError, web.RequestPayloadError, GatewayError)


def edge_error(status: int, exc: BaseException | None) -> GatewayError:
    """The client-visible error for a request aiohttp could not hand to the application
    (or whose handler raised): never quotes the request."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, _CLIENT_FAULTS) or 400 <= status < 500:  # a parser error
        status = status if 400 <= status < 500 else 400
        return BadHttpRequest("The request is not valid HTTP/1.1.", status=status)
    if status == 504:
        return GatewayError("The request timed out.", status=504, code="timeout")
    return GatewayError("The server had an error while processing your request.")


def _frames(exc: BaseException | None) -> list[str] | None:
    if exc is None or exc.__traceback__ is None:
        return None
    return [f"{f.filename}:{f.lineno}:{f.name}" for f in traceback.extract_tb(exc.__traceback__)]


class EdgeRequestHandler(RequestHandler):
    """See the module docstring."""

    __slots__ = ("_body", "_body_seen", "_body_timer", "_edge", "_head_since", "_head_timer")

    def __init__(self, manager: web.Server, *, edge: EdgeOptions, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._edge = edge
        # the head timer is lazy: a request only notes when its head began (``_head_since``)
        # and that its head is complete (None); the timer, armed when none is, checks
        # whether the pending head is late and re-arms itself for its due time if not
        self._head_since: float | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None
        self._body_seen = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head(self._loop.time())

    def connection_lost(self, exc: BaseException | None) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._force_close or self._close:
            return
        now = self._loop.time()
        body = self._body
        if body is not None and not body.is_eof():
            self._body_seen = now
        elif data and self._head_since is None:
            self._arm_head(now)
        queued = len(self._messages)
        super().data_received(data)
        if len(self._messages) > queued:
            self._parsed(queued, now)

    def _parsed(self, first: int, now: float) -> None:
        """Messages ``first..`` were just parsed: heads are complete; refuse bad versions."""
        self._head_since = None  # the head timer, if armed, finds no head pending
        for i in range(first, len(self._messages)):
            message, _payload = self._messages[i]
            if isinstance(message, RawRequestMessage) and message.version not in _VERSIONS:
                error = HttpVersionNotSupported("Only HTTP/1.0 and HTTP/1.1 are served.")
                self._messages[i] = (_ErrInfo(status=400, exc=error, message=""), EMPTY_PAYLOAD)
                while len(self._messages) > i + 1:  # the refusal closes the connection
                    self._messages.pop()
                break
        payload = self._messages[-1][1]
        self._body = payload
        if not payload.is_eof():
            self._body_seen = now
            if self._body_timer is None:
                due = now + self._edge.body_timeout
                self._body_timer = self._loop.call_at(due, self._check_body)

    def _arm_head(self, now: float) -> None:
        """A request head began at ``now``."""
        self._head_since = now
        if self._head_timer is None:
            self._head_timer = self._loop.call_at(now + self._edge.header_timeout, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if self._force_close or self._close or self.transport is None:
            return
        since = self._head_since
        if since is None:  # no head pending: the next one arms the timer again
            return
        due = since + self._edge.header_timeout
        if self._loop.time() < due:  # a later head than the one the timer was armed for
            self._head_timer = self._loop.call_at(due, self._head_late)
            return
        error = ClientHeaderTimeout("The request head was not received in time.")
        self._messages.append((_ErrInfo(status=408, exc=error, message=""), EMPTY_PAYLOAD))
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.close()  # parse nothing more; the 408 is the last answer

    def _check_body(self) -> None:
        self._body_timer = None
        body = self._body
        if body is None or body.is_eof() or self.transport is None:
            return
        now = self._loop.time()
        if self._reading_paused or self._buffer_paused:  # we stopped reading, not the client
            self._body_seen = now
        due = self._body_seen + self._edge.body_timeout
        if now < due:
            self._body_timer = self._loop.call_at(due, self._check_body)
            return
        self._body = None
        self.close()  # no further request on this connection
        message = "The request body was not received in time."
        error = ClientBodyTimeout(message, headers={"Connection": "close"})
        # Both: any later read raises the error; aiohttp's lingering read (after an answer)
        # sees the end. Who waits now is woken with the first: the handler with the error
        # (it answers 408), aiohttp's lingering read with the end.
        if self._request_in_progress:
            body.set_exception(error)
            body.feed_eof()
        else:
            body.feed_eof()
            body.set_exception(error)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        error = edge_error(status, exc)
        fields: dict[str, Any] = {
            "status": error.status,
            "error": type(exc).__name__ if exc is not None else None,
            "peer": request.remote,
            "listener": self._edge.listener,
        }
        if error.status >= 500:
            log.error("http_error", frames=_frames(exc), **fields)
        else:
            log.info("http_error", **fields)
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response")
        response = error_response(error)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        exc = exc if isinstance(exc, BaseException) else None
        if isinstance(exc, _CLIENT_FAULTS):
            # e.g. aiohttp's read of the rest of a broken body after the answer: the
            # client's fault, and the connection closes
            log.info("http_client_fault", error=type(exc).__name__, listener=self._edge.listener)
            return
        log.error(
            "http_internal_error",
            error=type(exc).__name__ if exc is not None else None,
            frames=_frames(exc),
            listener=self._edge.listener,
        )

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        if isinstance(resp, web.HTTPException) and resp.status >= 400:
            resp = _json_twin(resp)
        return await super().finish_response(request, resp, start_time)


def _json_twin(resp: web.HTTPException) -> web.StreamResponse:
    """aiohttp's own plain-text answers (no route for ``*`` or a CONNECT target, an unknown
    ``Expect``, a body over ``client_max_size`` ...) with the JSON error body instead; the
    text, which may quote the request, is dropped. Errors already in JSON pass as they are."""
    if resp.content_type != "text/plain":
        return resp
    status = HTTPStatus(resp.status)
    error = GatewayError(
        f"{status.value} {status.phrase}.",
        status=status.value,
        type="invalid_request_error" if status.value < 500 else "server_error",
        code=status.phrase.lower().replace(" ", "_").replace("-", "_"),
    )
    twin = error_response(error)
    for name, value in resp.headers.items():
        if name.lower() not in ("content-type", "content-length") and name not in twin.headers:
            twin.headers.add(name, value)
    return twin


class _EdgeServer(web.Server):
    """aiohttp's low-level server, making :class:`EdgeRequestHandler` connections."""

    def __init__(self, base: web.Server, edge: EdgeOptions) -> None:
        super().__init__(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            **base._kwargs,
        )
        self._edge = edge

    def __call__(self) -> RequestHandler:
        return EdgeRequestHandler(self, loop=self._loop, edge=self._edge, **self._kwargs)


class EdgeRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections are :class:`EdgeRequestHandler`."""

    def __init__(self, app: web.Application, edge: EdgeOptions, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._edge = edge

    async def _make_server(self) -> web.Server:
        return _EdgeServer(await super()._make_server(), self._edge)
