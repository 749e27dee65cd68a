"""Authentication settings (a frozen subset of the process settings) and the factory.

Field names match ``gateway.settings.Settings``, so the composition root can do
``AuthSettings.from_mapping(settings.model_dump())``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gateway.auth.api_keys import KeyStore
from gateway.auth.client_ip import TrustedProxies
from gateway.auth.identity import Authenticator
from gateway.auth.jwt_auth import JwtConfig, JwtVerifier
from gateway.clock import Clock


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Everything the authenticate stage needs. Secrets are hidden from ``repr``."""

    keys_file: str | None = None
    key_secret: str | None = field(default=None, repr=False)  # HMAC secret for key hashes
    jwt_secret: str | None = field(default=None, repr=False)  # shared secret for HS*
    jwt_public_key: str | None = None  # PEM text, or a path to a PEM file
    jwt_jwks_url: str | None = None
    jwt_algorithms: tuple[str, ...] = ()  # empty: inferred from the configured keys
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway: float = 30.0
    trusted_proxies: tuple[str, ...] = ()
    jwks_ttl: float = 300.0
    jwks_min_refresh: float = 30.0
    jwt_cache_size: int = 10_000

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AuthSettings:
        """Pick this class's fields out of a larger mapping (unknown keys ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        picked = {k: v for k, v in values.items() if k in names and v is not None}
        for name in ("jwt_algorithms", "trusted_proxies"):
            if name in picked:
                picked[name] = tuple(picked[name])
        return cls(**picked)

    @property
    def jwt_enabled(self) -> bool:
        return bool(self.jwt_secret or self.jwt_public_key or self.jwt_jwks_url)

    def public_key_pem(self) -> str | None:
        """The PEM text, reading the file when ``jwt_public_key`` is a path."""
        value = self.jwt_public_key
        if not value:
            return None
        if "-----BEGIN" in value:
            return value
        return Path(value).read_text(encoding="utf-8")

    def jwt_config(self) -> JwtConfig | None:
        if not self.jwt_enabled:
            return None
        return JwtConfig(
            secret=self.jwt_secret,
            public_key=self.public_key_pem(),
            jwks_url=self.jwt_jwks_url,
            algorithms=self.jwt_algorithms,
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            leeway=self.jwt_leeway,
            jwks_ttl=self.jwks_ttl,
            jwks_min_refresh=self.jwks_min_refresh,
            cache_size=self.jwt_cache_size,
        )


def build_authenticator(
    settings: AuthSettings, clock: Clock, session: aiohttp.ClientSession | None = None
) -> Authenticator:
    """The authenticate stage. Raises ValueError / KeysFileError / OSError on bad settings."""
    keys = (
        KeyStore.load(settings.keys_file, settings.key_secret, clock=clock)
        if settings.keys_file
        else None
    )
    jwt_cfg = settings.jwt_config()
    verifier = JwtVerifier(jwt_cfg, clock=clock, session=session) if jwt_cfg else None
    proxies = TrustedProxies.parse(settings.trusted_proxies)
    return Authenticator(keys, verifier, proxies, clock)
