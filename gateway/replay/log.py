"""Reading the gateway's request log: one JSON line per request (``"event": "request"``).

Other lines (start-up, warnings, non-JSON output) are skipped and counted. A request line
written before the replay fields existed (no ``at``) cannot be replayed and is counted too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

_REFUSED_BY = re.compile(r"^budget (\S+) exhausted$")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """What the log says about one request, and what replaying it needs."""

    request_id: str
    at: float
    account: str
    tier: str
    cluster: str
    cluster_size: int
    path: str
    model: str
    endpoint: str
    prompt_tokens: int
    max_tokens: int | None
    n: int
    usage_in: int | None
    usage_out: int | None
    cell: int | None
    duration: float  # seconds the request held its concurrency slot
    decision: str  # allow, refuse, challenge, block, unavailable, none
    refused_by: str | None  # the budget named in the reason of a refusal

    @property
    def decided(self) -> bool:
        """It reached the decide stage (authenticated, valid): a budget decision exists."""
        return self.decision in ("allow", "refuse", "challenge", "block")


@dataclass
class LogRead:
    requests: list[LoggedRequest]
    skipped_lines: int = 0  # not JSON, or not a request line
    unreplayable: int = 0  # request lines without the replay fields


def _int(value: object, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _number(value: object) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else 0.0  # type: ignore[arg-type]


def _optional_int(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


SKIP = "skip"  # not a request line
UNREPLAYABLE = "unreplayable"  # a request line without the replay fields, or no account


def parse_line(line: str) -> LoggedRequest | str:
    """The request of one line, else :data:`SKIP` or :data:`UNREPLAYABLE`."""
    try:
        record = json.loads(line)
    except ValueError:
        return SKIP
    if not isinstance(record, dict) or record.get("event") != "request":
        return SKIP
    at = record.get("at")
    if not isinstance(at, int | float) or not record.get("account"):
        return UNREPLAYABLE
    reason = record.get("reason")
    found = _REFUSED_BY.match(reason) if isinstance(reason, str) else None
    return LoggedRequest(
        request_id=str(record.get("request_id") or ""),
        at=float(at),
        account=str(record["account"]),
        tier=str(record.get("tier") or ""),
        cluster=str(record.get("cluster") or record["account"]),
        cluster_size=max(1, _int(record.get("cluster_size"), 1)),
        path=str(record.get("path") or ""),
        model=str(record.get("model") or ""),
        endpoint=str(record.get("endpoint") or "other"),
        prompt_tokens=_int(record.get("prompt_tokens")),
        max_tokens=_optional_int(record.get("max_tokens")),
        n=max(1, _int(record.get("n"), 1)),
        usage_in=_optional_int(record.get("usage_in")),
        usage_out=_optional_int(record.get("usage_out")),
        cell=_optional_int(record.get("cell")),
        duration=_number(record.get("total_ms")) / 1000,
        decision=str(record.get("decision") or "none"),
        refused_by=found.group(1) if found else None,
    )


def read_log(lines: Iterable[str]) -> LogRead:
    """Every replayable request of a log, in time order."""
    read = LogRead([])
    for line in lines:
        if not line.strip():
            continue
        parsed = parse_line(line)
        if isinstance(parsed, LoggedRequest):
            read.requests.append(parsed)
        elif parsed == SKIP:
            read.skipped_lines += 1
        else:
            read.unreplayable += 1
    read.requests.sort(key=lambda r: r.at)
    return read
