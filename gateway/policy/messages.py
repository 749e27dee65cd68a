"""Turn pydantic validation errors and policy issues into ``file:line: path: message`` lines.

The path reported is the deepest one that exists in the user's document: a string given
where a mapping is expected (``requests: 5 per minute``) reports ``tiers.free.requests``,
not the internal ``tiers.free.requests.rate``. Several internal errors that collapse onto
one node (the branches of a union) report once.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gateway.policy.checks import Issue
from gateway.policy.document import Loc, Location, dotted

Located = tuple[Location, str]
"""An error line and where it points (for sorting in document order)."""

_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def describe(value: Any) -> str:
    """A value as the user wrote it in YAML: ``"text"``, ``5``, ``true``, ``null``."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    got = describe(error.get("input"))
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return "required field is missing"
    if kind in ("literal_error", "enum"):
        return f"expected {str(ctx.get('expected', '')).replace(chr(39), chr(34))}, got {got}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {_BOUNDS[kind]} {bound}, got {got}"
    return str(error["msg"])


def _at(where: Location, loc: Loc, message: str) -> Located:
    path = dotted(loc)
    return (where, f"{where}: {path}: {message}" if path else f"{where}: {message}")


def _known_prefix(loc: Loc, locations: Mapping[Loc, Location]) -> Loc:
    for end in range(len(loc), 0, -1):
        if loc[:end] in locations:
            return loc[:end]
    return ()


def _locate(loc: Loc, locations: Mapping[Loc, Location], root: Location) -> Location:
    prefix = _known_prefix(loc, locations)
    return locations[prefix] if prefix else root


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
    return node


def _branches(schema: Mapping[str, Any], node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    node = _resolve(schema, node)
    branches = node.get("anyOf") or node.get("oneOf")
    if not branches:
        return [node]
    return [b for branch in branches for b in _branches(schema, branch)]


def fields_at(schema: Mapping[str, Any], loc: Loc) -> list[str]:
    """Field names the JSON schema allows in the mapping at ``loc`` (for suggestions)."""
    nodes = [schema]
    for part in loc:
        following: list[Mapping[str, Any]] = []
        for node in (b for n in nodes for b in _branches(schema, n)):
            if isinstance(part, int) and isinstance(node.get("items"), Mapping):
                following.append(node["items"])
            elif part in node.get("properties", {}):
                following.append(node["properties"][part])
            elif isinstance(node.get("additionalProperties"), Mapping):
                following.append(node["additionalProperties"])
        nodes = following
    names = {name for n in nodes for b in _branches(schema, n) for name in b.get("properties", {})}
    return sorted(names)


def validation_messages(
    exc: ValidationError,
    locations: Mapping[Loc, Location],
    root: Location,
    schema: Mapping[str, Any] | None = None,
) -> list[Located]:
    """One line per distinct problem."""
    lines: list[Located] = []
    collapsed: set[Loc] = set()
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        prefix = _known_prefix(loc, locations)
        where = locations[prefix] if prefix else root
        if error["type"] == "missing" and len(loc) == len(prefix) + 1:
            line = _at(where, loc, _message(error))
        elif error["type"] == "extra_forbidden" and loc == prefix and loc:
            key = str(loc[-1])
            close = difflib.get_close_matches(key, fields_at(schema, loc[:-1]) if schema else [])
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            line = _at(where, loc[:-1], f'unknown field "{key}"{hint}')
        else:
            if len(prefix) < len(loc):
                if prefix in collapsed:
                    continue
                collapsed.add(prefix)
            line = _at(where, prefix, _message(error))
        if line not in lines:
            lines.append(line)
    return lines


def issue_messages(
    issues: Iterable[Issue], locations: Mapping[Loc, Location], root: Location
) -> list[Located]:
    """Whole-document issues at the line of their node (or its nearest ancestor)."""
    return [_at(_locate(issue.loc, locations, root), issue.loc, issue.message) for issue in issues]
