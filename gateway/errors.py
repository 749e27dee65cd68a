"""The small error hierarchy. Every error a client can see is an OpenAI-style body.

``{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`` with the right status;
:func:`gateway.http.responses.error_response` renders them.
"""

from __future__ import annotations


class GatewayError(Exception):
    """An error with an HTTP status and an OpenAI-style body."""

    status: int = 500
    type: str = "server_error"
    code: str | None = "internal_error"
    retryable: bool | None = None  # sent as x-should-retry when not None

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if type is not None:
            self.type = type
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.param = param
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # extra keys inside "error" (e.g. "challenge")


class AuthenticationError(GatewayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"
    retryable = False


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"
    retryable = False


class RateLimited(GatewayError):
    status = 429
    type = "requests"
    code = "rate_limit_exceeded"


class Forbidden(GatewayError):
    """Challenges, step-up verification and blocks."""

    status = 403
    type = "permission_error"
    code = "account_blocked"
    retryable = False


class UpstreamError(GatewayError):
    status = 502
    type = "server_error"
    code = "upstream_error"


class UpstreamTimeout(GatewayError):
    status = 504
    type = "server_error"
    code = "upstream_timeout"


class ServiceUnavailable(GatewayError):
    status = 503
    type = "server_error"
    code = "service_unavailable"
