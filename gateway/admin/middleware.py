"""The admin listener's error boundary: every failure becomes an OpenAI-style JSON body.

* :class:`~gateway.errors.GatewayError` (bad input, 401, 404): its own status and body.
* aiohttp's own HTTP errors (unknown path, wrong method, body too large): the same status,
  a JSON body.
* The store (Redis) unreachable: 503 ``service_unavailable``.
* Anything else: 500 ``internal_error``, logged without the request's body or headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from gateway.errors import GatewayError, ServiceUnavailable
from gateway.http.responses import error_response
from gateway.store_errors import StoreUnavailable

log = structlog.get_logger("gateway.admin")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STORE_DOWN = (StoreUnavailable, ConnectionError, asyncio.TimeoutError)


def _http_error(exc: web.HTTPException) -> GatewayError:
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
    return GatewayError(
        exc.reason,
        status=exc.status,
        type="invalid_request_error",
        code=code.get(exc.status, "invalid_request"),
        headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None,
    )


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except GatewayError as error:
        return error_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_http_error(exc))
    except _STORE_DOWN as exc:
        log.warning("admin_store_unavailable", path=request.path, error=type(exc).__name__)
        return error_response(ServiceUnavailable("The store is unavailable; try again shortly."))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("admin_error", path=request.path, method=request.method)
        return error_response(GatewayError("Internal error in the admin API."))
