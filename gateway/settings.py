"""Process settings: a YAML config file and ``GATEWAY_*`` environment variables (env wins).

Validated once into a frozen :class:`Settings`; a bad value stops start-up with one line that
names the setting. Operator policy (budgets, detection) is separate: see ``gateway.policy``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

ENV_PREFIX = "GATEWAY_"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


def _split_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected host:port such as 127.0.0.1:8080, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class Settings(BaseModel):
    """Every process setting. Env var: ``GATEWAY_`` + the field name in upper case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = Field("0.0.0.0:8080", description="host:port of the API listener")
    upstream: str = Field("http://127.0.0.1:8000", description="Base URL of the inference API")
    upstream_api_key: str | None = Field(None, description="Credential sent upstream")
    upstream_connect_timeout: float = Field(5.0, gt=0, description="Seconds to connect")
    upstream_read_timeout: float = Field(
        300.0, gt=0, description="Seconds without a byte from the upstream (idle), not total"
    )
    store: str = Field(
        "memory://",
        description="memory://, redis://host:port/db, rediss://, redis+cluster://host:port",
    )
    store_prefix: str = Field("dg", description="Prefix of every Redis key")
    settle_linger_ms: float = Field(
        5.0,
        ge=0,
        le=100,
        description="Longest wait (ms) of a settlement for the next Redis round trip "
        "(0: its own round trip at once)",
    )
    store_timeout_ms: float = Field(
        250.0,
        gt=0,
        le=10_000,
        description="Longest wait (ms) for a budget store call before it counts as a failure",
    )
    replicas: int = Field(1, ge=1, description="Replica count: the fallback limiter divides by it")
    policies: str = Field("policies", description="Policy file or folder")
    shadow: bool = Field(False, description="Global shadow mode: compute, log, never refuse")
    keys_file: str | None = Field(None, description="API keys file (hashes only)")
    key_secret: str | None = Field(None, description="HMAC secret for API key hashes")
    jwt_secret: str | None = Field(None, description="Shared secret for HS* JWTs")
    jwt_public_key: str | None = Field(None, description="PEM text or path for RS/ES/PS/EdDSA")
    jwt_jwks_url: str | None = Field(None, description="JWKS URL, fetched asynchronously")
    jwt_algorithms: tuple[str, ...] = Field((), description="Allowed JWT algorithms")
    jwt_issuer: str | None = Field(None, description="Required iss")
    jwt_audience: str | None = Field(None, description="Required aud")
    jwt_leeway: float = Field(30.0, ge=0, description="Clock skew allowed, seconds")
    admin_listen: str | None = Field(None, description="host:port of the admin listener")
    admin_token: str | None = Field(None, description="Bearer token for the admin API")
    trusted_proxies: tuple[str, ...] = Field(
        (), description="CIDRs whose X-Forwarded-For is trusted"
    )
    log_format: Literal["json", "console"] = Field("json", description="json or console")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Level")
    route_prefix: str = Field("/v1/", description="Requests under this path are proxied")
    body_limit: int = Field(4 * 1024 * 1024, ge=1024, description="Largest request body, bytes")
    client_header_timeout: float = Field(
        10.0, gt=0, description="Seconds to receive a whole request head (else 408, close)"
    )
    client_body_timeout: float = Field(
        30.0, gt=0, description="Seconds without a byte of a request body (else 408, close)"
    )
    forward_account_header: str | None = Field(
        "x-gateway-account", description="Header naming the account upstream; empty to disable"
    )
    policy_header: str | None = Field(
        "x-gateway-policy", description="Response header with the policy version; empty: off"
    )
    challenge_secret: str | None = Field(
        None, description="HMAC key of proof-of-work challenges (shared by all replicas)"
    )
    workers: int = Field(1, ge=1, le=64, description="Worker processes (SO_REUSEPORT)")
    sighting_shards: int = Field(
        8,
        ge=1,
        le=256,
        description="Shards of the sighting stream (the same on every gateway and detect worker)",
    )
    sighting_maxlen: int = Field(
        100_000,
        ge=100,
        description="Entries kept per shard (MAXLEN ~): beyond, the oldest unread are trimmed",
    )
    detect_listen: str = Field(
        "0.0.0.0:9464", description="host:port of gateway detect's /metrics and /healthz"
    )
    detect_claim_idle: float = Field(
        30.0,
        gt=0,
        le=120,
        description="Seconds a sighting stays pending before another detect worker claims it "
        "(at most 120: a claimed sighting older than 240 s is never applied, its id may be "
        "forgotten)",
    )
    detect_linger: float = Field(
        0.25,
        ge=0,
        le=5,
        description="Least seconds between the starts of two reads of a detect worker: a batch "
        "holds what arrived meanwhile (cheaper per sighting under load; a backlog is read at "
        "once; adds at most this to detection lag)",
    )
    link_secret: str | None = Field(
        None,
        description="Key of the hashes of account-linking evidence (shared by all replicas; "
        "required with a Redis store)",
    )

    @field_validator("listen", "admin_listen", "detect_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value:
            _split_host_port(value)
        return value

    @field_validator("upstream", "jwt_jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        schemes = ("memory://", "redis://", "rediss://", "redis+cluster://", "unix://")
        if not value.startswith(schemes):
            raise ValueError(f"expected memory:// or redis://host:port/db, got {value!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"expected CIDRs such as 10.0.0.0/8, got {cidr!r}") from None
        return value

    @field_validator("route_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"expected a path such as /v1/, got {value!r}")
        return value if value.endswith("/") else value + "/"

    @field_validator(
        "forward_account_header",
        "policy_header",
        "upstream_api_key",
        "admin_token",
        "keys_file",
        "key_secret",
        "jwt_secret",
        "challenge_secret",
        "link_secret",
    )
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _shared_link_secret(self) -> Settings:
        if self.link_secret is None and not self.store.startswith("memory://"):
            raise ValueError(
                "link_secret (env GATEWAY_LINK_SECRET) is required with a Redis store: "
                "the same value on every replica"
            )
        return self

    @property
    def listen_address(self) -> tuple[str, int]:
        return _split_host_port(self.listen)

    @property
    def detect_address(self) -> tuple[str, int]:
        return _split_host_port(self.detect_listen)

    @property
    def admin_address(self) -> tuple[str, int] | None:
        return _split_host_port(self.admin_listen) if self.admin_listen else None

    def public(self) -> dict[str, Any]:
        """The settings with secrets masked (for logs and the admin API)."""
        secret = {
            "upstream_api_key",
            "key_secret",
            "jwt_secret",
            "admin_token",
            "challenge_secret",
            "link_secret",
        }
        return {k: ("***" if k in secret and v else v) for k, v in self.model_dump().items()}


_LIST_FIELDS = {"jwt_algorithms", "trusted_proxies"}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if name in _LIST_FIELDS:
            values[name] = tuple(p.strip() for p in raw.split(",") if p.strip())
        else:
            values[name] = raw
    return values


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the config file (if any), then the environment, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise SettingsError(f"config file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise SettingsError(f"config file {path}: not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise SettingsError(f"config file {path}: expected a mapping of settings")
        values.update(loaded)
    values.update(_from_env(env))
    values.update(overrides or {})
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        if not err["loc"]:  # a rule across settings: its message names them
            raise SettingsError(f"invalid settings: {message}") from None
        field = str(err["loc"][0])
        if err["type"] == "extra_forbidden":
            message = "unknown setting"
        raise SettingsError(
            f"invalid setting {field} (env {ENV_PREFIX}{field.upper()}): {message}"
        ) from None
