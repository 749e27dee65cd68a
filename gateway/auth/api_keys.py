"""API keys: generation, hashing, and the in-memory store the gateway looks keys up in.

A key is ``dgk_`` + 43 base62 characters encoding 32 random bytes (256 bits). Only a hash is
stored: HMAC-SHA256(server secret, key) when a secret is configured, else SHA-256. Records of
both kinds may coexist in one file; each says which in ``alg``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import secrets
import string
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import structlog

from gateway.auth.keys_file import (
    HashAlg,
    KeyRecord,
    KeysFileError,
    read_records,
    write_records,
)
from gateway.clock import Clock, SystemClock
from gateway.memo import BoundedMemo

KEY_PREFIX = "dgk_"
KEY_BYTES = 32
_ALPHABET = string.digits + string.ascii_letters
_KEY_CHARS = 43  # 62**43 > 2**256: every 32-byte value fits, fixed length
_MAX_KEY_LEN = 512  # longer credentials are not hashed at all
_INDEX_HEX = 16  # dict lookup on a hash prefix, then compare_digest on the full hash
_VERIFIED_MAX = 10_000  # keys whose hash matched an enabled record, remembered (see lookup)

log = structlog.get_logger(__name__)

__all__ = ["KEY_PREFIX", "KeyRecord", "KeyStore", "generate_key", "hash_key", "new_key"]


def generate_key() -> str:
    """A fresh API key: the prefix and 256 random bits in base62."""
    n = int.from_bytes(secrets.token_bytes(KEY_BYTES), "big")
    chars = []
    for _ in range(_KEY_CHARS):
        n, digit = divmod(n, 62)
        chars.append(_ALPHABET[digit])
    return KEY_PREFIX + "".join(chars)


def hash_key(key: str, secret: str | None) -> tuple[HashAlg, str]:
    """The stored form of ``key``: (alg, hex digest)."""
    data = key.encode("utf-8")
    if secret:
        # one-shot C path: same digest as hmac.new(...).hexdigest(), a fraction of the calls
        return "hmac-sha256", hmac.digest(secret.encode("utf-8"), data, "sha256").hex()
    return "sha256", hashlib.sha256(data).hexdigest()


def _digest(key: str, alg: HashAlg, secret: str | None) -> str | None:
    if alg == "hmac-sha256":
        return hash_key(key, secret)[1] if secret else None
    return hash_key(key, None)[1]


def _stat_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class KeyStore:
    """Hashed API keys in memory, reloaded when the file changes (checked at most once per
    ``check_interval`` seconds, on lookup) or on :meth:`reload`. A file that fails to parse
    keeps the last good keys.

    A key that matched an enabled record is remembered with it (at most ``_VERIFIED_MAX``
    keys; the memory is emptied when full and on every install of records, so a revoked or
    changed key is hashed again): a caller's next requests skip the HMAC. Keys that match
    nothing are never remembered (random keys cannot fill the memory)."""

    def __init__(
        self,
        records: Iterable[KeyRecord] = (),
        *,
        secret: str | None = None,
        path: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
        check_interval: float = 1.0,
    ) -> None:
        self._secret = secret or None
        self._path = Path(path) if path is not None else None
        self._clock = clock or SystemClock()
        self._interval = check_interval
        self._checked_at = self._clock.now()
        self._signature = _stat_signature(self._path) if self._path else None
        self._index: dict[str, tuple[KeyRecord, ...]] = {}
        self._algs: tuple[HashAlg, ...] = ()
        self._records: tuple[KeyRecord, ...] = ()
        self._verified: BoundedMemo[str, KeyRecord] = BoundedMemo(_VERIFIED_MAX)
        self._install(tuple(records))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        secret: str | None = None,
        *,
        clock: Clock | None = None,
        check_interval: float = 1.0,
    ) -> KeyStore:
        """Read ``path`` (raising :class:`KeysFileError` if it is malformed)."""
        records = read_records(path)
        return cls(records, secret=secret, path=path, clock=clock, check_interval=check_interval)

    @property
    def records(self) -> tuple[KeyRecord, ...]:
        return self._records

    def _install(self, records: tuple[KeyRecord, ...]) -> None:
        index: dict[str, list[KeyRecord]] = {}
        for rec in records:
            index.setdefault(f"{rec.alg}:{rec.hash[:_INDEX_HEX]}", []).append(rec)
        algs = {rec.alg for rec in records}
        if "hmac-sha256" in algs and not self._secret:
            log.warning("api_keys.hmac_without_secret", hint="set GATEWAY_KEY_SECRET")
        if "sha256" in algs and self._secret:
            log.info("api_keys.unkeyed_hashes", hint="records with alg sha256 are still accepted")
        self._index = {k: tuple(v) for k, v in index.items()}
        self._algs = tuple(sorted(algs))
        self._records = records
        self._verified.clear()

    def lookup(self, key: str) -> KeyRecord | None:
        """The enabled record whose hash matches ``key``, else None."""
        self.maybe_reload()
        known = self._verified.get(key)
        if known is not None:
            return known
        if not key or len(key) > _MAX_KEY_LEN or not key.isascii():
            return None  # credentials are ASCII; header bytes that are not UTF-8 match none
        for alg in self._algs:
            digest = _digest(key, alg, self._secret)
            if digest is None:
                continue
            for rec in self._index.get(f"{alg}:{digest[:_INDEX_HEX]}", ()):
                if hmac.compare_digest(rec.hash, digest):
                    if rec.disabled:
                        return None
                    return self._verified.put(key, rec)
        return None

    def maybe_reload(self) -> bool:
        """Reload if the file changed; stats it at most once per ``check_interval``."""
        if self._path is None:
            return False
        now = self._clock.now()
        if now - self._checked_at < self._interval:
            return False
        self._checked_at = now
        if _stat_signature(self._path) == self._signature:
            return False
        return self.reload()

    def reload(self) -> bool:
        """Re-read the file now. True when new records were installed."""
        if self._path is None:
            return False
        signature = _stat_signature(self._path)
        if signature is None:
            log.error("api_keys.file_missing", path=str(self._path), kept=len(self._records))
            self._signature = None
            return False
        try:
            records = read_records(self._path)
        except (KeysFileError, OSError, UnicodeDecodeError) as exc:
            log.error("api_keys.reload_failed", path=str(self._path), error=str(exc))
            self._signature = signature  # do not retry a broken file every second
            return False
        self._signature = signature
        self._install(records)
        log.info("api_keys.reloaded", path=str(self._path), keys=len(records))
        return True


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_key(
    keys_file: str | os.PathLike[str],
    account: str,
    tier: str | None = None,
    attrs: Mapping[str, str] | None = None,
    secret: str | None = None,
    *,
    label: str | None = None,
    clock: Clock | None = None,
) -> str:
    """Create a key for ``account``, append its hash to ``keys_file`` (0600), return the key."""
    if not account:
        raise ValueError("account is required")
    key = generate_key()
    alg, digest = hash_key(key, secret)
    record = KeyRecord(
        id=digest[:12],
        alg=alg,
        hash=digest,
        account_id=account,
        tier=tier,
        attrs={str(k): str(v) for k, v in (attrs or {}).items()},
        created_at=_iso((clock or SystemClock()).now()),
        label=label,
        hint=f"{KEY_PREFIX}...{key[-4:]}",
    )
    write_records(keys_file, (*read_records(keys_file), record))
    return key


def revoke_keys(
    keys_file: str | os.PathLike[str], *, key_id: str | None = None, account: str | None = None
) -> int:
    """Mark matching records ``disabled`` (kept for audit). Returns how many changed."""
    if not key_id and not account:
        raise ValueError("give a key id or an account")
    changed = 0
    out: list[KeyRecord] = []
    for rec in read_records(keys_file):
        hit = (key_id is not None and rec.id == key_id) or (
            account is not None and rec.account_id == account
        )
        if hit and not rec.disabled:
            rec = dataclasses.replace(rec, disabled=True)
            changed += 1
        out.append(rec)
    if changed:
        write_records(keys_file, out)
    return changed
