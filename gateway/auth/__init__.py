"""Authentication and identity: hashed API keys, JWTs (async JWKS), the client IP."""

from gateway.auth.api_keys import KeyRecord, KeyStore, new_key
from gateway.auth.client_ip import TrustedProxies, client_ip, ip_prefix
from gateway.auth.config import AuthSettings, build_authenticator
from gateway.auth.identity import Authenticator
from gateway.auth.jwt_auth import JwtConfig, JwtVerifier

__all__ = [
    "AuthSettings",
    "Authenticator",
    "JwtConfig",
    "JwtVerifier",
    "KeyRecord",
    "KeyStore",
    "TrustedProxies",
    "build_authenticator",
    "client_ip",
    "ip_prefix",
    "new_key",
]
