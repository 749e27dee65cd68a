"""JWT algorithm families and verification keys (RFC 8725: pin the algorithm to the key).

Every algorithm belongs to one key type (``oct``, ``RSA``, ``EC``, ``OKP``); a key is only ever
used with algorithms of its own type, so an HS token can never be checked against an RSA key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWK, PyJWTError

KEY_TYPE_OF: Mapping[str, str] = {
    "HS256": "oct",
    "HS384": "oct",
    "HS512": "oct",
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES256K": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "ES521": "EC",
    "EdDSA": "OKP",
}
HMAC_ALGORITHMS = frozenset(a for a, kty in KEY_TYPE_OF.items() if kty == "oct")
_EC_ALG_BY_CURVE = {
    "secp256r1": "ES256",
    "secp384r1": "ES384",
    "secp521r1": "ES512",
    "secp256k1": "ES256K",
}


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key with its type; ``alg`` pins it to one algorithm when the JWK says so."""

    kty: str
    key: Any  # a cryptography public key object
    kid: str | None = None
    alg: str | None = None

    def accepts(self, alg: str) -> bool:
        """May a token signed with ``alg`` be verified with this key?"""
        if KEY_TYPE_OF.get(alg) != self.kty:
            return False
        return self.alg is None or self.alg == alg


def check_algorithms(algorithms: tuple[str, ...]) -> None:
    """Raise ValueError on ``none`` or an algorithm PyJWT does not implement."""
    for alg in algorithms:
        if alg.lower() == "none":
            raise ValueError("JWT algorithm 'none' is never allowed")
        if alg not in KEY_TYPE_OF:
            known = ", ".join(KEY_TYPE_OF)
            raise ValueError(f"unknown JWT algorithm {alg!r}; expected one of {known}")


def load_pem(pem: str) -> VerificationKey:
    """A public key from PEM text (SubjectPublicKeyInfo); raises ValueError."""
    try:
        key = load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key: {exc.__class__.__name__}") from None
    if isinstance(key, rsa.RSAPublicKey):
        return VerificationKey("RSA", key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return VerificationKey("EC", key, alg=_EC_ALG_BY_CURVE.get(key.curve.name))
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return VerificationKey("OKP", key)
    raise ValueError(f"unsupported public key type {type(key).__name__}")


def default_algorithms(key: VerificationKey) -> tuple[str, ...]:
    """Algorithms allowed for a PEM key when none are configured."""
    if key.alg is not None:
        return (key.alg,)
    return {"RSA": ("RS256", "PS256"), "OKP": ("EdDSA",)}.get(key.kty, ())


def from_jwk(entry: Mapping[str, Any]) -> VerificationKey | None:
    """A verification key from one JWKS entry; None for symmetric, encryption-only or bad keys."""
    kty = entry.get("kty")
    if kty not in ("RSA", "EC", "OKP") or entry.get("use", "sig") != "sig":
        return None
    alg = entry.get("alg")
    if alg is not None and KEY_TYPE_OF.get(alg) != kty:
        return None  # a key claiming an algorithm of another type is not trusted
    kid = entry.get("kid")
    try:
        jwk = PyJWK(dict(entry))
    except (PyJWTError, ValueError, TypeError):
        return None
    return VerificationKey(kty=kty, key=jwk.key, kid=kid if isinstance(kid, str) else None, alg=alg)
