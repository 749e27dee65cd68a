"""The OpenAI-compatible mock upstream (tests, demos and the overhead benchmark's baseline)."""

from gateway.mock.app import STATS_KEY, build_mock_app
from gateway.mock.config import MockConfig, RequestHooks
from gateway.mock.server import run_mock, serve_mock
from gateway.mock.stats import MockStats, redact_secret
from gateway.mock.text import count_tokens

__all__ = [
    "STATS_KEY",
    "MockConfig",
    "MockStats",
    "RequestHooks",
    "build_mock_app",
    "count_tokens",
    "redact_secret",
    "run_mock",
    "serve_mock",
]
