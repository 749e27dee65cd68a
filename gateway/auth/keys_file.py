"""The API keys file: hashes of keys and who they belong to, never the keys themselves.

Format: YAML (a JSON file is valid YAML too, so operators may hand-write either)::

    version: 1
    keys:
      - id: 3f9c2a7d41e0          # short public id: first 12 hex digits of the hash
        alg: hmac-sha256           # or sha256 (when no GATEWAY_KEY_SECRET was set)
        hash: 3f9c2a7d41e0...      # 64 hex digits
        account: acct_42
        tier: pro                  # optional
        label: ci runner           # optional
        hint: dgk_...Xy7Q          # last 4 characters, to recognise a key in lists
        attrs: {org_id: org_7, payment_fingerprint: pf_1, device_id: dev_9}
        created_at: '2026-01-01T00:00:00Z'
        disabled: true             # optional; set by ``keys revoke``

The file is written atomically (temporary file in the same folder, then ``os.replace``) with
mode 0600. Two CLI writers racing may lose one update; run the CLI from one place.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

HashAlg = Literal["hmac-sha256", "sha256"]
FORMAT_VERSION = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class KeysFileError(ValueError):
    """The keys file cannot be read; the message names the file and the record."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One stored API key (its hash) and the identity it grants."""

    id: str
    alg: HashAlg
    hash: str  # lower-case hex digest
    account_id: str
    tier: str | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)
    created_at: str = ""
    disabled: bool = False
    label: str | None = None
    hint: str = ""


def _record_from(raw: Any, where: str) -> KeyRecord:
    if not isinstance(raw, dict):
        raise KeysFileError(f"{where}: expected a mapping")
    digest = str(raw.get("hash", "")).lower()
    if not _HEX64.match(digest):
        raise KeysFileError(f"{where}: 'hash' must be 64 hex digits")
    alg = raw.get("alg", "sha256")
    if alg not in ("hmac-sha256", "sha256"):
        raise KeysFileError(f"{where}: 'alg' must be hmac-sha256 or sha256")
    account = raw.get("account")
    if not isinstance(account, str | int) or not str(account):
        raise KeysFileError(f"{where}: 'account' is required")
    attrs = raw.get("attrs") or {}
    if not isinstance(attrs, dict):
        raise KeysFileError(f"{where}: 'attrs' must be a mapping of strings")
    tier = raw.get("tier")
    label = raw.get("label")
    return KeyRecord(
        id=str(raw.get("id") or digest[:12]),
        alg=alg,
        hash=digest,
        account_id=str(account),
        tier=None if tier is None else str(tier),
        attrs={str(k): str(v) for k, v in attrs.items()},
        created_at=str(raw.get("created_at", "")),
        disabled=raw.get("disabled", False) is True,
        label=None if label is None else str(label),
        hint=str(raw.get("hint", "")),
    )


def parse_records(text: str, source: str = "<keys file>") -> tuple[KeyRecord, ...]:
    """Parse the file's text; raise :class:`KeysFileError` naming the bad record."""
    try:
        doc = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise KeysFileError(f"{source}: not valid YAML/JSON ({exc.__class__.__name__})") from None
    if doc is None:
        return ()
    if not isinstance(doc, dict) or not isinstance(doc.get("keys", []), list):
        raise KeysFileError(f"{source}: expected a mapping with a 'keys' list")
    return tuple(
        _record_from(raw, f"{source}: keys[{i}]") for i, raw in enumerate(doc.get("keys") or [])
    )


def read_records(path: str | os.PathLike[str]) -> tuple[KeyRecord, ...]:
    """Read a keys file; a missing file holds no keys."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    return parse_records(text, str(p))


def _record_to(rec: KeyRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rec.id, "alg": rec.alg, "hash": rec.hash}
    out["account"] = rec.account_id
    if rec.tier is not None:
        out["tier"] = rec.tier
    if rec.label is not None:
        out["label"] = rec.label
    if rec.hint:
        out["hint"] = rec.hint
    out["attrs"] = dict(rec.attrs)
    out["created_at"] = rec.created_at
    if rec.disabled:
        out["disabled"] = True
    return out


def dump_records(records: Iterable[KeyRecord]) -> str:
    """The file's text for ``records`` (stable key order, block style, readable)."""
    doc = {"version": FORMAT_VERSION, "keys": [_record_to(r) for r in records]}
    header = "# distillguard API keys: hashes only. Edit with `gateway keys ...`.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def write_records(path: str | os.PathLike[str], records: Iterable[KeyRecord]) -> None:
    """Write atomically with mode 0600 (creating the folder's file if absent)."""
    p = Path(path)
    text = dump_records(records)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
