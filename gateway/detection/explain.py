"""Why an account is at its level: the effective level, the path that set it, its reasons.

An account's own score is one of several ways its level rises. A frame or ask cohort it
sends, synchrony with unlinked partners, client-stack churn and a newcomer cohort each raise
it to a *floor* (see :mod:`gateway.detection.batch`, :mod:`gateway.detection.newcomer_floor`),
written to the level key the request path reads but not to the account's score; a cluster's
level applies to every member. The engine audits each floor when it raises the level key
(:func:`floor_record`), and the admin view joins the account's own level, its level key, its
cluster's level key and that audit into one answer (:func:`explain`): what the gateway
enforces now, and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gateway.model import Level

if TYPE_CHECKING:
    from gateway.detection.floors import Scored


def floor_record(item: Scored, before: Level, now: float) -> dict[str, Any]:
    """The audit record of ``item``'s floor raising its level key from ``before``."""
    a = item.verdict.assessment
    shown = a.to_json()
    return {
        "t": now,
        "entity": item.state.entity,
        "actor": "detector",
        "path": item.path,
        "from": before.label,
        "to": item.floor.label,
        "mode": a.mode,
        "until": round(item.floor_until, 3),
        "own_level": item.verdict.state.level_at(now).label,
        "score": shown.get("score"),
        "families": shown.get("families"),
        "reasons": shown.get("reasons"),
    }


def explain(
    own: Level,
    pinned: bool,
    keyed: Level,
    cluster: Level,
    audit: Sequence[Mapping[str, Any]],
    now: float,
) -> dict[str, Any]:
    """The effective level of an entity and its source.

    ``own``: its pin or its own score's level; ``keyed``: its level key (what the request
    path reads, floors included); ``cluster``: its cluster's level key (NONE for a cluster
    or a template); ``audit``: its detection audit, newest first. The source is ``pin``,
    ``detector`` (its own score), one of the floor paths (the newest floor audit still
    held), ``cluster`` or ``none``; ``floor`` is that audit's summary."""
    effective = max(own, keyed, cluster)
    floor = _held_floor(audit, effective, now) if keyed > own else None
    if effective == Level.NONE:
        source = "none"
    elif own == effective:
        source = "pin" if pinned else "detector"
    elif keyed == effective:
        source = str(floor["path"]) if floor else "level_key"
    else:
        source = "cluster"
    return {
        "effective_level": effective.label,
        "own_level": own.label,
        "cluster_level": cluster.label,
        "level_source": source,
        "floor": floor,
    }


def _held_floor(
    audit: Sequence[Mapping[str, Any]], level: Level, now: float
) -> dict[str, Any] | None:
    """The newest floor record that raised the level key to ``level`` and still holds."""
    for record in audit:
        held = float(record.get("until") or 0.0) > now
        if "path" in record and record.get("to") == level.label and held:
            return {
                "path": record["path"],
                "level": level.label,
                "since": record.get("t"),
                "until": record.get("until"),
                "reasons": list(record.get("reasons") or ()),
            }
    return None
