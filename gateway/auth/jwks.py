"""An async JWKS cache (aiohttp, never the blocking ``PyJWKClient``).

Keys are cached for ``ttl`` seconds. A token with an unknown ``kid`` triggers a refresh at most
once per ``min_refresh`` seconds, and only one fetch runs at a time: callers arriving during a
fetch await that same fetch. A failed fetch keeps the previous keys (stale beats down).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import structlog

from gateway.auth.jwt_keys import VerificationKey, from_jwk
from gateway.clock import Clock
from gateway.errors import AuthenticationError, ServiceUnavailable

log = structlog.get_logger(__name__)


class JwksFetchError(Exception):
    """The JWKS document could not be fetched or held no usable key."""


class JwksCache:
    """Signing keys of one JWKS URL, fetched lazily."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        ttl: float = 300.0,
        min_refresh: float = 30.0,
        timeout: float = 5.0,
        max_bytes: int = 1 << 20,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._url = url
        self._clock = clock
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_bytes = max_bytes
        self._session = session
        self._own_session: aiohttp.ClientSession | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._keys: dict[str | None, VerificationKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self.fetches = 0  # number of HTTP fetches made (metrics, tests)

    async def get(self, kid: str | None) -> VerificationKey:
        """The key for ``kid`` (a token without ``kid`` needs a JWKS with exactly one key)."""
        now = self._clock.now()
        if self._fetched_at is None or now - self._fetched_at >= self._ttl:
            await self._refresh()
        key = self._find(kid)
        if key is None:
            await self._refresh()  # joins a fetch in flight, or starts one if allowed
            key = self._find(kid)
        if key is not None:
            return key
        if self._fetched_at is None:
            raise ServiceUnavailable(
                "The gateway cannot fetch the token signing keys right now. Please retry.",
                code="jwks_unavailable",
            )
        raise AuthenticationError(
            "Invalid token: its signing key (kid) is not known."
            if kid is not None
            else "Invalid token: it has no kid header and the key set has several keys."
        )

    def _find(self, kid: str | None) -> VerificationKey | None:
        if kid is not None:
            return self._keys.get(kid)
        keys = list(self._keys.values())
        return keys[0] if len(keys) == 1 else None

    def _may_fetch(self) -> bool:
        at = self._attempted_at
        return at is None or self._clock.now() - at >= self._min_refresh

    async def _refresh(self) -> None:
        """Single flight: wait for the fetch in progress, else start one if not too soon."""
        if self._inflight is None:
            if not self._may_fetch():
                return
            self._attempted_at = self._clock.now()
            self._inflight = asyncio.ensure_future(self._fetch_and_install())
        # shield: a waiter that is cancelled (client gone) does not cancel the shared fetch
        await asyncio.shield(self._inflight)

    async def _fetch_and_install(self) -> None:
        try:
            keys = await self._fetch()
        except JwksFetchError as exc:
            log.warning("jwks.fetch_failed", url=self._url, error=str(exc))
            return
        finally:
            self._inflight = None
        self._keys = keys
        self._fetched_at = self._clock.now()
        log.info("jwks.fetched", url=self._url, keys=len(keys))

    async def _fetch(self) -> dict[str | None, VerificationKey]:
        self.fetches += 1
        session = self._session or self._ensure_session()
        try:
            async with session.get(
                self._url, timeout=self._timeout, headers={"Accept": "application/json"}
            ) as resp:
                if resp.status != 200:
                    raise JwksFetchError(f"HTTP {resp.status}")
                body = await resp.content.read(self._max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise JwksFetchError(exc.__class__.__name__) from None
        if len(body) > self._max_bytes:
            raise JwksFetchError("document too large")
        return self._parse(body)

    @staticmethod
    def _parse(body: bytes) -> dict[str | None, VerificationKey]:
        try:
            doc: Any = json.loads(body)
        except ValueError:
            raise JwksFetchError("not JSON") from None
        entries = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise JwksFetchError("no 'keys' list")
        keys: dict[str | None, VerificationKey] = {}
        for entry in entries:
            key = from_jwk(entry) if isinstance(entry, Mapping) else None
            if key is not None:
                keys[key.kid] = key
        if not keys:
            raise JwksFetchError("no usable signing key")
        return keys

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._own_session is None or self._own_session.closed:
            self._own_session = aiohttp.ClientSession()
        return self._own_session

    async def close(self) -> None:
        """Stop a fetch in flight; close the session this cache opened (not an injected one)."""
        if self._inflight is not None:
            self._inflight.cancel()
            self._inflight = None
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None
