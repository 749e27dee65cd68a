"""Stateless proof-of-work challenges (see PROTOCOLS.md, "Challenges for API clients").

Issuing stores nothing: the token is a JWS (HS256, its own key, ``typ: gw-pow+jwt``) with the
account, a ``jti``, ``exp``, the difficulty, method and path. Redemption sends
``Gateway-PoW: challenge="<token>", nonce="<nonce>"`` where SHA-256(token + "." + nonce) has
``difficulty`` leading zero bits. A redeemed ``jti`` is marked used (SET NX until ``exp``) and
the account gets a short clearance read by the budget script.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.clock import Clock
from gateway.detection.config import DetectionPolicy
from gateway.detection.levels import LevelStore
from gateway.redis.keys import KeyBuilder

TYP = "gw-pow+jwt"
AUDIENCE = "gateway-pow"
ALGORITHM = "sha-256"
HEADER = "Gateway-PoW"
_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_NONCE = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
# a compact JWS, and nothing else reaches the JWT library (it encodes the text as UTF-8)
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_MAX_TOKEN = 2048


@dataclass(frozen=True, slots=True)
class Challenge:
    token: str
    difficulty: int
    expires_in: int
    algorithm: str = ALGORITHM
    header: str = HEADER

    def to_json(self) -> dict[str, Any]:
        """The ``error.challenge`` object of the 403 ``challenge_required`` body."""
        return {
            "token": self.token,
            "algorithm": self.algorithm,
            "difficulty": self.difficulty,
            "expires_in": self.expires_in,
            "header": self.header,
        }


@dataclass(frozen=True, slots=True)
class Redemption:
    """The outcome of checking a ``Gateway-PoW`` header; ``reason`` is for logs only."""

    ok: bool
    reason: str
    jti: str = ""


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def work_done(token: str, nonce: str, difficulty: int) -> bool:
    """SHA-256(token + "." + nonce) has at least ``difficulty`` leading zero bits."""
    digest = hashlib.sha256(f"{token}.{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= difficulty


def solve(token: str, difficulty: int) -> str:
    """Find a nonce (hex counter): about 2**difficulty hashes on average."""
    prefix = hashlib.sha256(f"{token}.".encode())
    target_shift = 256 - difficulty
    counter = 0
    while True:
        nonce = format(counter, "x")
        h = prefix.copy()
        h.update(nonce.encode())
        if int.from_bytes(h.digest(), "big") >> target_shift == 0:
            return nonce
        counter += 1


def header_value(token: str, nonce: str) -> str:
    """The value of the ``Gateway-PoW`` redemption header."""
    return f'challenge="{token}", nonce="{nonce}"'


def parse_header(value: str) -> tuple[str, str] | None:
    """(token, nonce) from a ``Gateway-PoW`` header value, or None when malformed."""
    params = dict(_PARAM.findall(value or ""))
    token, nonce = params.get("challenge"), params.get("nonce")
    if not token or len(token) > _MAX_TOKEN or not _TOKEN.fullmatch(token):
        return None
    if nonce is None or not _NONCE.match(nonce):
        return None
    return token, nonce


def www_authenticate(challenge: Challenge, realm: str) -> str:
    """The ``WWW-Authenticate`` value of a 403 ``challenge_required``."""
    safe_realm = realm.replace('"', "'")
    return (
        f'GatewayPoW realm="{safe_realm}", challenge="{challenge.token}", '
        f'algorithm="{challenge.algorithm}", difficulty={challenge.difficulty}'
    )


def difficulty_for(score: float, policy: DetectionPolicy) -> int:
    """Base difficulty at the challenge threshold, rising linearly to the max at score 1."""
    base, top = policy.challenge.base_difficulty, policy.challenge.max_difficulty
    start = policy.thresholds.challenge
    span = max(1e-9, 1.0 - start)
    fraction = max(0.0, min(1.0, (score - start) / span))
    return base + round((top - base) * fraction)


class ChallengeIssuer:
    """Issues and redeems proof-of-work challenges; the secret is its own, never an auth key."""

    def __init__(
        self,
        secret: bytes,
        clock: Clock,
        store: LevelStore,
        keys: KeyBuilder,
        *,
        token_ttl: float = 120.0,
        clearance_ttl: float = 600.0,
        leeway: float = 5.0,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the challenge secret needs at least 32 bytes")
        self._secret = secret
        self._clock = clock
        self._store = store
        self._keys = keys
        self.token_ttl = token_ttl
        self.clearance_ttl = clearance_ttl
        self._leeway = leeway

    def issue(self, account_id: str, method: str, path: str, difficulty: int) -> Challenge:
        """A fresh challenge for one account, bound to a method and path."""
        now = self._clock.now()
        claims = {
            "sub": account_id,
            "aud": AUDIENCE,
            "jti": secrets.token_urlsafe(12),
            "iat": int(now),
            "exp": int(now + self.token_ttl),
            "difficulty": int(difficulty),
            "method": method.upper(),
            "path": path,
        }
        token = jwt.encode(claims, self._secret, algorithm="HS256", headers={"typ": TYP})
        return Challenge(token=token, difficulty=int(difficulty), expires_in=int(self.token_ttl))

    async def verify(
        self,
        header: str,
        account_id: str,
        *,
        method: str,
        path: str,
        cluster_id: str | None = None,
    ) -> bool:
        """True when the header redeems a valid, unused challenge of this account, issued for
        this method and path (then the account is cleared for ``clearance_ttl``)."""
        return (
            await self.redeem(header, account_id, method=method, path=path, cluster_id=cluster_id)
        ).ok

    async def redeem(
        self,
        header: str,
        account_id: str,
        *,
        method: str,
        path: str,
        cluster_id: str | None = None,
    ) -> Redemption:
        """Like :meth:`verify`, with the reason of a refusal (for logs, never for clients).
        A refusal before the work check (account, method, path) leaves the token unused."""
        parsed = parse_header(header)
        if parsed is None:
            return Redemption(False, "malformed header")
        token, nonce = parsed
        claims = self._claims(token)
        if claims is None:
            return Redemption(False, "invalid token")
        jti = str(claims["jti"])
        if claims["sub"] != account_id:
            return Redemption(False, "token of another account", jti)
        if claims.get("method") != method.upper():
            return Redemption(False, "token of another method", jti)
        if claims.get("path") != path:
            return Redemption(False, "token of another path", jti)
        if not work_done(token, nonce, int(claims["difficulty"])):
            return Redemption(False, "insufficient work", jti)
        now = self._clock.now()
        used_ttl = max(1.0, float(claims["exp"]) + self._leeway - now)
        if not await self._store.set_flag(self._keys.pow_used(jti), used_ttl):
            return Redemption(False, "replayed", jti)
        clearance = self._keys.account_clearance(cluster_id or account_id, account_id)
        await self._store.set_flag(clearance, self.clearance_ttl)
        return Redemption(True, "ok", jti)

    def _claims(self, token: str) -> dict[str, Any] | None:
        try:
            if jwt.get_unverified_header(token).get("typ") != TYP:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={
                    "require": ["exp", "iat", "jti", "sub", "aud"],
                    # PyJWT would use the system clock; the injected clock decides below.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            if float(claims["exp"]) + self._leeway < self._clock.now():
                return None
            if not isinstance(claims.get("difficulty"), int):
                return None
            return claims
        except jwt.PyJWTError:
            return None
