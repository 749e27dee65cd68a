"""Whole-document checks of a policy: references between sections, names and globs.

The checks read plain data (the merged YAML, or a validated policy dumped by alias), so the
loader can run them even when some fields failed validation: a file's errors are reported
all at once. Values of the wrong type are skipped here; field validation reports them.
Each problem is an :class:`Issue` with the path of the offending node.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.policy.document import Loc, dotted

ANY_TIER = "*"
"""The key of a model / route / cluster entry that applies to every tier without its own."""
DEFAULT_TIER = "free"
_TIER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem at a path of the policy document."""

    loc: Loc
    message: str

    def render(self) -> str:
        path = dotted(self.loc)
        return f"{path}: {self.message}" if path else self.message


def glob_problem(glob: str, *, route: bool = False) -> str | None:
    """Why ``glob`` is not a usable model or route glob (fnmatch syntax), or None."""
    if not glob:
        return "a glob cannot be empty"
    if any(char.isspace() for char in glob):
        return "a glob cannot contain whitespace"
    if "{" in glob or "}" in glob:
        return 'brace alternatives such as "{a,b}" are not supported; write one entry per glob'
    index = 0
    while index < len(glob):
        if glob[index] == "[":
            end = index + 1
            if end < len(glob) and glob[end] == "!":
                end += 1
            if end < len(glob) and glob[end] == "]":
                end += 1
            close = glob.find("]", end)
            if close < 0:
                return 'invalid glob: unclosed "["'
            index = close
        index += 1
    if route and not glob.startswith(("/", "*")):
        return 'a route glob must start with "/"'
    return None


def _unknown_tier(name: str, tiers: Iterable[str]) -> str:
    known = sorted(tiers)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else f" (tiers: {', '.join(known)})"
    return f'unknown tier "{name}"{hint}'


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _tier_keyed(section: str, entries: Any, tiers: set[str], route: bool) -> Iterator[Issue]:
    for glob, per_tier in _mapping(entries).items():
        problem = glob_problem(glob, route=route)
        if problem is not None:
            yield Issue((section, glob), problem)
        for tier in _mapping(per_tier):
            if tiers and tier != ANY_TIER and tier not in tiers:
                yield Issue((section, glob, tier), _unknown_tier(tier, tiers))


def check_policy(data: Mapping[str, Any]) -> list[Issue]:
    """Every whole-document problem of the policy ``data`` (empty when consistent)."""
    issues: list[Issue] = []
    tiers_section = data.get("tiers")
    tiers = set(_mapping(tiers_section))
    if isinstance(tiers_section, Mapping) and not tiers:
        issues.append(Issue(("tiers",), "at least one tier is required"))
    for name in sorted(tiers):
        if not _TIER_NAME.match(name):
            issues.append(
                Issue(
                    ("tiers", name),
                    f'tier name "{name}" must be letters, digits, "_", "-" or "." '
                    "(at most 64, starting with a letter or digit)",
                )
            )
    default = _mapping(data.get("defaults")).get("tier", DEFAULT_TIER)
    if tiers and isinstance(default, str) and default not in tiers:
        issues.append(Issue(("defaults", "tier"), _unknown_tier(default, tiers)))
    issues.extend(_tier_keyed("models", data.get("models"), tiers, route=False))
    issues.extend(_tier_keyed("routes", data.get("routes"), tiers, route=True))
    for glob, budgets in _mapping(data.get("global")).items():
        problem = glob_problem(glob)
        if problem is not None:
            issues.append(Issue(("global", glob), problem))
        if _mapping(budgets).get("diversity") is not None:
            issues.append(
                Issue(
                    ("global", glob, "diversity"),
                    "diversity budgets apply to accounts and clusters, not to all callers",
                )
            )
    if tiers:
        cluster_budgets = _mapping(_mapping(data.get("clusters")).get("budgets"))
        for tier in cluster_budgets:
            if tier != ANY_TIER and tier not in tiers:
                issues.append(Issue(("clusters", "budgets", tier), _unknown_tier(tier, tiers)))
        for tier in _mapping(_mapping(data.get("detection")).get("tiers")):
            if tier not in tiers:
                issues.append(Issue(("detection", "tiers", tier), _unknown_tier(tier, tiers)))
    return issues
