"""Frozen values of the cluster graph: evidence, links, link results, audit entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

LinkStatus = Literal["merged", "edge", "refreshed", "too_large", "do_not_link", "self"]
AuditAction = Literal["link", "unlink", "refused", "hot_value", "drop_evidence", "prune"]

MANUAL = "manual"
"""Evidence signal of a link made by an operator."""


def hash_value(signal: str, value: str, salt: bytes = b"") -> str:
    """A short keyed hash of a signal value: raw payment fingerprints and IPs are never stored."""
    digest = hashlib.blake2b(
        value.encode("utf-8"), digest_size=10, key=salt[:64], person=signal.encode()[:16]
    )
    return digest.hexdigest()


def pair_id(a: str, b: str) -> str:
    """The canonical id of an unordered pair of accounts."""
    return f"{a}|{b}" if a <= b else f"{b}|{a}"


def split_pair(pair: str) -> tuple[str, str]:
    a, _, b = pair.partition("|")
    return a, b


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why two accounts are linked: one signal and the hash of the value they share."""

    signal: str  # a hard attribute name, a soft signal name, or "manual"
    value_hash: str  # hash_value(...) of the shared value; never the raw value
    first_seen: float
    last_seen: float
    count: int = 1

    @property
    def field(self) -> str:
        return f"{self.signal}:{self.value_hash}"

    def to_json(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "value_hash": self.value_hash,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class Link:
    """An edge of the graph with all its evidence."""

    a: str
    b: str
    evidence: tuple[Evidence, ...]

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "evidence": [e.to_json() for e in self.evidence]}


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """An account's cluster: its id (the account id when solitary) and member count;
    ``soft``: linked by soft evidence only (no payment, org, device or operator link)."""

    cluster_id: str
    size: int
    soft: bool = False


@dataclass(frozen=True, slots=True)
class LinkResult:
    """``merged``: two clusters became one; ``edge``: new edge inside one cluster;
    ``refreshed``: known edge, evidence updated; ``too_large``: refused by max_size;
    ``do_not_link``: refused by an operator's unlink mark; ``self``: a == b."""

    status: LinkStatus
    cluster_id: str
    size: int

    @property
    def linked(self) -> bool:
        return self.status in ("merged", "edge", "refreshed")


@dataclass(frozen=True, slots=True)
class UnlinkResult:
    """``removed``: edges removed; ``separated``: a and b are in different clusters now
    (False when they stay connected through other accounts)."""

    removed: int
    separated: bool
    clusters: tuple[ClusterInfo, ...]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One append-only audit record: who did what to which accounts, why and when."""

    at: float
    action: AuditAction
    actor: str
    reason: str
    accounts: tuple[str, ...] = ()
    cluster_id: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def pruned(cls, at: float, removed: int) -> AuditEntry:
        """The record of ``removed`` edges dropped because their evidence expired."""
        return cls(at, "prune", "linker", "evidence expired", detail={"edges_removed": removed})

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "accounts": list(self.accounts),
            "cluster_id": self.cluster_id,
            "detail": dict(self.detail),
        }

    def encode(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, text: str | bytes) -> AuditEntry:
        data = json.loads(text)
        return cls(
            at=float(data["at"]),
            action=data["action"],
            actor=str(data["actor"]),
            reason=str(data["reason"]),
            accounts=tuple(data.get("accounts", ())),
            cluster_id=str(data.get("cluster_id", "")),
            detail=dict(data.get("detail", {})),
        )
