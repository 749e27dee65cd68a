"""A live gateway for the attack corpus: the production server (``gateway.server``) on loopback
ports, a real Redis, the built-in mock upstream, API keys, HS256 and RS256 JWTs, an admin
listener with a token, and every log line captured (structlog rendered as in production, and
the stdlib root logger with aiohttp's loggers, all at DEBUG).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import signal
import socket
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import structlog
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from redis.asyncio import Redis
from redis_servers import delete_prefix

from gateway.auth.api_keys import new_key
from gateway.mock.app import build_mock_app
from gateway.observability.logging import processors
from gateway.server import run_gateway
from gateway.settings import Settings

HOST = "127.0.0.1"
ADMIN_TOKEN = "corpus-admin-token-" + uuid.uuid4().hex
JWT_SECRET = "corpus-jwt-secret-" + uuid.uuid4().hex
LINK_SECRET = "corpus-link-secret-" + uuid.uuid4().hex
UPSTREAM_KEY = "sk-corpus-upstream-" + uuid.uuid4().hex
CHALLENGE_SECRET = "corpus-challenge-secret-" + uuid.uuid4().hex
ISSUER = "https://issuer.corpus.test"
AUDIENCE = "distillguard"
BODY_LIMIT = 64 * 1024
CLIENT_TIMEOUT = 1.0  # seconds a client may take to send its headers, or its body
# Every prompt the corpus sends carries this marker; no log line may contain it.
MARKER = "PROMPT-MARKER-" + uuid.uuid4().hex

POLICY = """
version: 1
defaults: {tier: free, failure_mode: open, max_tokens: 64}
tiers:
  free:
    requests: {rate: 60000/minute, burst: 5000}
    tokens: {rate: 100000000/hour, burst: 10000000}
    concurrency: 16
  pair:
    requests: {rate: 60000/minute, burst: 5000}
    concurrency: 2
detection:
  enabled: true
  mode: enforce
  min_requests: 100000
  challenge: {base_difficulty: 4, max_difficulty: 6, clearance: 1s}
clusters: {enabled: false}
"""
POW_ACCOUNTS = ("pow-ok", "pow-replay", "pow-xfer-a", "pow-xfer-b", "pow-path", "pow-method",
                "pow-nonce", "pow-claims", "pow-forged", "pow-garbage")  # fmt: skip
ACCOUNTS = {"alice": "free", "bob": "free", "pair": "pair", **dict.fromkeys(POW_ACCOUNTS, "free")}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class LogCapture:
    """Everything the gateway process logs, as text, while installed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        saved = structlog.get_config()
        structlog.configure(
            processors=processors("json"),
            wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
            logger_factory=structlog.WriteLoggerFactory(self.stream),
            cache_logger_on_first_use=False,
        )
        handler = logging.StreamHandler(self.stream)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        named = [logging.getLogger(n) for n in ("aiohttp", "aiohttp.server", "aiohttp.access",
                 "aiohttp.web", "aiohttp.internal", "aiohttp.client", "asyncio")]  # fmt: skip
        levels = [(logger, logger.level) for logger in (root, *named)]
        root.addHandler(handler)
        for logger, _ in levels:
            logger.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            root.removeHandler(handler)
            for logger, level in levels:
                logger.setLevel(level)
            structlog.configure(**saved)


def _rsa_pair() -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public_pem.decode()


@dataclass
class Live:
    port: int
    admin_port: int
    mock_url: str
    keys: dict[str, str]
    rsa_private: Any
    rsa_public_pem: str
    redis: Redis
    prefix: str
    http: aiohttp.ClientSession
    logs: LogCapture
    secrets: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://{HOST}:{self.admin_port}"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": "jwt-user", "iss": ISSUER, "aud": AUDIENCE,
                                  "exp": int(time.time()) + 600, "tier": "free"}  # fmt: skip
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def secret(self, value: str) -> str:
        """Remember a credential the corpus sends: no log line may contain it."""
        self.secrets.append(value)
        return value

    def hs256(self, **overrides: Any) -> str:
        return self.secret(jwt.encode(self.claims(**overrides), JWT_SECRET, algorithm="HS256"))

    def rs256(self, **overrides: Any) -> str:
        return self.secret(jwt.encode(self.claims(**overrides), self.rsa_private, "RS256"))

    def body(self, **fields: Any) -> bytes:
        """A chat completion body with the prompt marker, ``fields`` overriding."""
        payload: dict[str, Any] = {
            "model": "mock-gpt",
            "messages": [{"role": "user", "content": f"{MARKER} say hello"}],
        }
        payload.update(fields)
        return _json(payload)

    async def mock_stats(self) -> dict[str, Any]:
        async with self.http.get(f"{self.mock_url}/mock/stats") as response:
            data: dict[str, Any] = await response.json()
            return data

    async def admin(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return await self.http.request(method, self.admin_url + path, headers=headers, **kwargs)


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _settings(values: dict[str, Any]) -> Settings:
    """Short client timeouts, so that the stalled cases end quickly."""
    return Settings(
        **values, client_header_timeout=CLIENT_TIMEOUT, client_body_timeout=CLIENT_TIMEOUT
    )


async def _wait_ready(live: Live, server: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.done():
            server.result()  # raises what stopped it
            raise RuntimeError("the gateway stopped during start-up")
        with contextlib.suppress(aiohttp.ClientError):
            async with live.http.get(f"{live.url}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError("the gateway did not answer /healthz within 15 s")


@asynccontextmanager
async def live_gateway(tmp_path: Path, redis_url: str, prefix: str) -> AsyncIterator[Live]:
    """The gateway's Redis keys all start with ``prefix`` and are deleted at the end."""
    capture = LogCapture()
    with capture.installed():
        async with _running(tmp_path, redis_url, prefix, capture) as live:
            yield live


def _write_files(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """The policy file, and the keys file with a new key per account."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(textwrap.dedent(POLICY))
    keys_file = tmp_path / "keys.yaml"
    keys = {name: new_key(keys_file, name, tier=tier) for name, tier in ACCOUNTS.items()}
    return policy_file, keys_file, keys


@asynccontextmanager
async def _running(
    tmp_path: Path, redis_url: str, prefix: str, capture: LogCapture
) -> AsyncIterator[Live]:
    policy_file, keys_file, keys = _write_files(tmp_path)
    private, public_pem = _rsa_pair()
    mock = TestServer(build_mock_app(), host=HOST)
    await mock.start_server()
    redis = Redis.from_url(redis_url)
    settings = _settings(
        dict(
            listen=f"{HOST}:{free_port()}",
            admin_listen=f"{HOST}:{free_port()}",
            upstream=str(mock.make_url("")).rstrip("/"),
            upstream_api_key=UPSTREAM_KEY,
            store=redis_url,
            store_prefix=prefix,
            policies=str(policy_file),
            keys_file=str(keys_file),
            admin_token=ADMIN_TOKEN,
            jwt_secret=JWT_SECRET,
            link_secret=LINK_SECRET,
            jwt_public_key=public_pem,
            jwt_algorithms=("HS256", "RS256"),
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            trusted_proxies=("10.0.0.0/8",),
            challenge_secret=CHALLENGE_SECRET,
            body_limit=BODY_LIMIT,
            log_level="debug",
        )
    )
    live = Live(
        port=settings.listen_address[1],
        admin_port=settings.admin_address[1] if settings.admin_address else 0,
        mock_url=str(mock.make_url("")).rstrip("/"),
        keys=keys,
        rsa_private=private,
        rsa_public_pem=public_pem,
        redis=redis,
        prefix=prefix,
        # a new connection per request: an idle keep-alive connection may meet the gateway's
        # client header timeout between two cases
        http=aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)),
        logs=capture,
        secrets=[
            ADMIN_TOKEN,
            JWT_SECRET,
            LINK_SECRET,
            UPSTREAM_KEY,
            CHALLENGE_SECRET,
            *keys.values(),
        ],
    )
    stop = asyncio.Event()
    server = asyncio.get_running_loop().create_task(run_gateway(settings, stop=stop))
    try:
        await _wait_ready(live, server)
        yield live
    finally:
        stop.set()
        await asyncio.gather(server, return_exceptions=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)  # run_gateway installed them on the test's loop
        await live.http.close()
        await mock.close()
        await delete_prefix(redis, prefix)
        await redis.aclose()
