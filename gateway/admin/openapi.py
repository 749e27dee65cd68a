"""The admin API's route table and its OpenAPI 3.1 document: one source of truth.

:data:`OPERATIONS` lists every admin route; :func:`gateway.admin.routes.admin_routes`
registers exactly these (handler by name), and :func:`document` builds the OpenAPI document
served at ``/admin/v1/openapi.json`` and rendered into ``docs/admin-api.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway import __version__

OPENAPI_PATH = "/admin/v1/openapi.json"
_ERROR = {"$ref": "#/components/responses/Error"}
_OBJECT: dict[str, Any] = {"type": "object"}
_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
_TIER = {
    "name": "tier",
    "in": "query",
    "required": False,
    "description": "Show budgets as for this tier of the running policy (what if) instead "
    "of the account's own; an unknown tier is 400.",
    "schema": _STRING,
}


def _obj(required: tuple[str, ...], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_BUDGET = _obj(
    ("budget", "scope", "unit", "limit", "remaining", "reset_after", "mode"),
    budget=_STRING,
    scope=_STRING,
    unit=_STRING,
    limit={"type": "integer"},
    remaining={"type": "integer"},
    reset_after=_NUMBER,
    mode=_STRING,
)
_AUDIT = _obj(
    ("source", "at"),
    source={"enum": ["clusters", "detection"]},
    at={"type": "number", "description": "Epoch seconds."},
)
_SEEN = {
    "description": "Tier, first and last request time (epoch seconds, to about a minute); "
    "null when the account sent no request in the last 90 days.",
    "oneOf": [
        {"type": "null"},
        _obj(
            ("tier", "first_seen", "last_seen"), tier=_STRING, first_seen=_NUMBER, last_seen=_NUMBER
        ),
    ],
}
_SOURCES = [
    "none",
    "pin",
    "detector",
    "template_or_cohort",
    "synchrony",
    "stack_churn",
    "newcomer_cohort",
    "cluster",
    "level_key",
]
_DETECTION = {
    **_obj(
        ("level", "level_source", "own_level", "score", "reasons", "audit"),
        level=_STRING,
        level_source={"enum": _SOURCES},
        own_level=_STRING,
        cluster_level=_STRING,
        floor={"oneOf": [{"type": "null"}, _OBJECT]},
        score=_NUMBER,
        reasons=_array(_STRING),
        audit=_array(_OBJECT),
    ),
    "description": "`level`: what the request path enforces now, the highest of the own "
    "level (`own_level`: its pin, else its own score's), its level key (floors included) and "
    "its cluster's (`cluster_level`); `level_source`: `pin`, `detector` (its own score), the "
    "floor path that raised it (`template_or_cohort`, `synchrony`, `stack_churn`, "
    "`newcomer_cohort`), `cluster`, `level_key` (a raise whose audit entry is gone) or "
    "`none`; `floor`: that floor's `path`, `level`, `since`, `until`, `reasons` (null "
    "otherwise); `reasons` ends with the floor's reason. Each floor that raises the level "
    "key is audited once (an entry with `path`, `from`, `to`, `until`, `reasons`).",
}
_TIER_FIELDS = {
    "tier": {"type": "string", "description": "The tier the budgets are shown for."},
    "tier_source": {
        "enum": ["query", "seen", "default"],
        "description": "`seen`: the tier of the account's latest requests; `query`: `?tier=`; "
        "`default`: the policy's default tier (no request seen).",
    },
}
_ACCOUNT = _obj(
    (
        "account_id",
        "cluster_id",
        "members",
        "links",
        "tier",
        "tier_source",
        "seen",
        "budgets",
        "detection",
        "audit",
    ),
    account_id=_STRING,
    cluster_id=_STRING,
    members={"type": "integer"},
    links=_array(_OBJECT),
    seen=_SEEN,
    budgets=_array(_BUDGET),
    detection=_DETECTION,
    audit={**_array(_AUDIT), "description": "Link decisions and detection actions, newest first."},
    **_TIER_FIELDS,
)
_CLUSTER = _obj(
    (
        "cluster_id",
        "size",
        "members",
        "members_truncated",
        "links",
        "tier",
        "tier_source",
        "budgets",
        "detection",
        "audit",
    ),
    cluster_id=_STRING,
    size={"type": "integer"},
    members=_array(_STRING),
    members_truncated={"type": "boolean"},
    links=_array(_OBJECT),
    budgets=_array(_BUDGET),
    detection=_DETECTION,
    audit=_array(_AUDIT),
    **_TIER_FIELDS,
)
_PAIR = _obj(
    ("a", "b", "reason"),
    a={"type": "string", "minLength": 1},
    b={"type": "string", "minLength": 1},
    reason={"type": "string", "minLength": 1, "description": "Audited."},
    actor={"type": "string", "minLength": 1, "description": "Who acts (audited); default admin."},
)
_LEVEL = _obj(
    ("level", "reason"),
    level={"enum": ["none", "throttle", "degrade", "challenge", "block"]},
    reason={"type": "string", "minLength": 1, "description": "Audited."},
    ttl={
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 31536000,
        "description": "Seconds the level is pinned (default 3600); unused by none.",
    },
    actor={"type": "string", "minLength": 1, "description": "Who acts (audited); default admin."},
)


@dataclass(frozen=True)
class Operation:
    """One admin route: how it is served and how it is documented."""

    method: str
    path: str  # an OpenAPI path template; aiohttp reads the same syntax
    handler: str  # name of the AdminApi method that serves it
    summary: str
    response: dict[str, Any]
    errors: tuple[int, ...] = (401, 503)
    parameters: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None
    auth: str = "required"  # "required", "if-set" (metrics) or "none"
    media: str = "application/json"
    description: str = ""


OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/metrics", "metrics", "Prometheus metrics of this process (all workers)",
              {"type": "string"}, errors=(401,), auth="if-set",
              media="text/plain; version=0.0.4",
              description="Needs the admin bearer token when `GATEWAY_ADMIN_TOKEN` is set; "
              "open without it."),
    Operation("get", OPENAPI_PATH, "openapi", "This document", _OBJECT, errors=(), auth="none"),
    Operation("get", "/admin/v1/accounts/{id}", "account",
              "An account: real tier, last seen, cluster, budgets, detection, audit trail",
              _ACCOUNT, errors=(400, 401, 404, 503), parameters=(_ID, _TIER),
              description="404 `account_not_found` for an account never seen, linked or "
              "pinned. Budgets are peeked (nothing is charged)."),
    Operation("get", "/admin/v1/clusters/{id}", "cluster",
              "A cluster of linked accounts: members, links, cluster budgets, detection, audit",
              _CLUSTER, errors=(400, 401, 404, 503), parameters=(_ID, _TIER)),
    Operation("post", "/admin/v1/clusters/link", "link", "Link two accounts (audited)",
              _obj(("linked", "status", "cluster_id", "size"), linked={"type": "boolean"},
                   status=_STRING, cluster_id=_STRING, size={"type": "integer"}),
              errors=(400, 401, 503), body=_PAIR,
              description="Overrides a do-not-link mark; still bounded by `clusters.max_size`."),
    Operation("post", "/admin/v1/clusters/unlink", "unlink",
              "Unlink two accounts; the pair is marked do-not-link (audited)",
              _obj(("edges_removed", "separated", "clusters"), edges_removed={"type": "integer"},
                   separated={"type": "boolean"}, clusters=_array(_OBJECT)),
              errors=(400, 401, 503), body=_PAIR),
    Operation("post", "/admin/v1/accounts/{id}/level", "account_level",
              "Pin (or clear with none) an account's detection level (audited)", _OBJECT,
              errors=(400, 401, 503), parameters=(_ID,), body=_LEVEL),
    Operation("post", "/admin/v1/clusters/{id}/level", "cluster_level",
              "Pin (or clear with none) a cluster's detection level (audited)", _OBJECT,
              errors=(400, 401, 503), parameters=(_ID,), body=_LEVEL),
    Operation("get", "/admin/v1/audit", "audit", "The link audit trail, newest first",
              _obj(("entries",), entries=_array(_OBJECT)), errors=(400, 401, 503),
              parameters=({"name": "limit", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 1, "maximum": 1000,
                                      "default": 100}},)),
    Operation("get", "/admin/v1/policy", "policy", "The running policy version and sources",
              _obj(("version", "sources", "last_errors"), version=_STRING,
                   sources=_array(_STRING), last_errors=_array(_STRING)), errors=(401,)),
    Operation("post", "/admin/v1/policy/reload", "reload", "Reload the policy files now",
              _obj(("ok", "version", "errors"), ok={"type": "boolean"}, version=_STRING,
                   errors=_array(_STRING)), errors=(401, 422),
              description="422 with the errors when the files are invalid; the last good "
              "policy keeps running."),
)  # fmt: skip

_ERROR_BODY = _obj(
    ("error",),
    error=_obj(
        ("message", "type", "param", "code"),
        message=_STRING,
        type=_STRING,
        param={"type": ["string", "null"]},
        code={"type": ["string", "null"]},
    ),
)
_STATUS_TEXT = {
    400: "Invalid input (the parameter is named in `error.param`)",
    401: "Missing or invalid admin bearer token",
    404: "Unknown account or cluster",
    422: "The policy files are invalid: `error.errors` lists the problems, `error.version` "
    "the policy that keeps running",
    503: "The store (Redis) is unavailable",
}


def _parameter(param: dict[str, Any], tiers: tuple[str, ...]) -> dict[str, Any]:
    if param is _TIER and tiers:
        return {**param, "schema": {"enum": list(tiers)}}
    return param


def _operation(op: Operation, tiers: tuple[str, ...]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK", "content": {op.media: {"schema": op.response}}}
    responses: dict[str, Any] = {"200": ok}
    for status in op.errors:
        responses[str(status)] = {**_ERROR, "description": _STATUS_TEXT[status]}
    doc: dict[str, Any] = {
        "operationId": op.handler,
        "summary": op.summary,
        "responses": responses,
    }
    if op.description:
        doc["description"] = op.description
    if op.parameters:
        doc["parameters"] = [_parameter(p, tiers) for p in op.parameters]
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    if op.auth == "none":
        doc["security"] = []
    elif op.auth == "if-set":
        doc["security"] = [{"admin": []}, {}]
    return doc


def document(tiers: Sequence[str] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the admin API. With ``tiers`` (the running policy's),
    the ``tier`` parameters list them; without, any string is documented (the reference)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, tuple(tiers))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DistillGuard admin API",
            "version": __version__,
            "description": "Operator API on the admin listener (`GATEWAY_ADMIN_LISTEN`). "
            'Every error is a JSON body `{"error": {"message", "type", "param", '
            '"code"}}`.',
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {"application/json": {"schema": _ERROR_BODY}},
                }
            },
        },
        "security": [{"admin": []}],
    }
