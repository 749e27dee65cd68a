"""How the mock upstream behaves: app-wide options and per-request test hooks.

Test hooks are request headers, so a test (or the gateway under test) can ask one request to
fail, hang or stream differently without restarting the mock:

=========================  ==============================================================
``x-mock-status: N``       answer status N with an OpenAI-style error body
``x-mock-latency-ms``      wait this long before the first byte
``x-mock-chunk-delay-ms``  wait this long before each content chunk of a stream
``x-mock-chunks: N``       split a streamed completion into N content chunks
``x-mock-no-usage: 1``     stream without the usage chunk even when asked for it
                           (Responses: ``"usage": null`` in the terminal event)
``x-mock-hang: 1``         never answer (until the mock shuts down): for timeout tests
``x-mock-completion-tokens``  natural completion length (before max_tokens cuts it)
``x-mock-reasoning-tokens``   reasoning tokens added to completion_tokens
``x-mock-cached-tokens``      prompt tokens reported as cached
=========================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.clock import Clock, SystemClock

MAX_HANG_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class MockConfig:
    """App-wide behaviour of the mock upstream."""

    chunk_delay_ms: float = 0.0
    latency_ms: float = 0.0
    chunks: int = 8  # content chunks per streamed choice (fewer if the completion is shorter)
    completion_tokens: int = 64  # natural completion length before max_tokens
    embedding_dimensions: int = 1536
    seed: int = 0  # changes every generated text, id and embedding
    clock: Clock = field(default_factory=SystemClock)  # for "created"


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _count(headers: Mapping[str, str], name: str) -> int | None:
    value = _number(headers, name)
    return None if value is None else int(value)


def _flag(headers: Mapping[str, str], name: str) -> bool:
    return headers.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class RequestHooks:
    """One request's behaviour: the app's config overridden by its ``x-mock-*`` headers."""

    status: int | None = None
    latency_s: float = 0.0
    chunk_delay_s: float = 0.0
    chunks: int = 8
    no_usage: bool = False
    hang: bool = False
    completion_tokens: int = 64
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], config: MockConfig) -> RequestHooks | None:
        """Read the hooks; None when the request has no ``x-mock-*`` header (the common case)."""
        if not any(name[:7].lower() == "x-mock-" for name in headers):
            return None
        status = _count(headers, "x-mock-status")
        latency = _number(headers, "x-mock-latency-ms")
        delay = _number(headers, "x-mock-chunk-delay-ms")
        return cls(
            status=status if status is not None and 100 <= status <= 599 else None,
            latency_s=(config.latency_ms if latency is None else latency) / 1000.0,
            chunk_delay_s=(config.chunk_delay_ms if delay is None else delay) / 1000.0,
            chunks=max(1, _count(headers, "x-mock-chunks") or config.chunks),
            no_usage=_flag(headers, "x-mock-no-usage"),
            hang=_flag(headers, "x-mock-hang"),
            completion_tokens=max(
                1, _count(headers, "x-mock-completion-tokens") or config.completion_tokens
            ),
            reasoning_tokens=_count(headers, "x-mock-reasoning-tokens") or 0,
            cached_tokens=_count(headers, "x-mock-cached-tokens") or 0,
        )

    @classmethod
    def defaults(cls, config: MockConfig) -> RequestHooks:
        """The behaviour of a request without hooks (computed once per app)."""
        return cls(
            latency_s=config.latency_ms / 1000.0,
            chunk_delay_s=config.chunk_delay_ms / 1000.0,
            chunks=max(1, config.chunks),
            completion_tokens=max(1, config.completion_tokens),
        )
