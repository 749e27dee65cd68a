"""One policy file read into plain data plus the source line of every node.

PyYAML composes the node tree (which carries line numbers); the tree is then turned into
dicts, lists and scalars by hand so that every path (``("tiers", "free", "requests")``)
gets a :class:`Location`. Duplicate keys, which plain ``yaml.safe_load`` silently
overwrites, are errors here. Merge keys (``<<: *base``) are supported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a policy file, as the user named the file."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed policy file: its data and the location of each path in it."""

    path: str
    data: Any
    locations: dict[Loc, Location]


class _Builder:
    """Walks a composed node tree; collects locations and errors."""

    def __init__(self, path: str, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader
        self.locations: dict[Loc, Location] = {}
        self.errors: list[str] = []
        self._stack: set[int] = set()

    def here(self, node: Node) -> Location:
        return Location(self.path, node.start_mark.line + 1)

    def build(self, node: Node, loc: Loc) -> Any:
        if id(node) in self._stack:
            self.errors.append(f"{self.here(node)}: {_dotted(loc)}: recursive alias")
            return None
        self._stack.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, SequenceNode):
                items = []
                for index, item in enumerate(node.value):
                    self.locations[(*loc, index)] = self.here(item)
                    items.append(self.build(item, (*loc, index)))
                return items
            return self.loader.construct_object(node, deep=True)
        finally:
            self._stack.discard(id(node))

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges = [(k, v) for k, v in node.value if k.tag == _MERGE_TAG]
        for _, value in merges:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                merged = self.build(source, loc)
                if isinstance(merged, dict):
                    result.update(merged)
                else:
                    self.errors.append(
                        f"{self.here(source)}: {_dotted(loc)}: '<<' merges mappings only"
                    )
        own: dict[str, Location] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            where = self.here(key_node)
            if not isinstance(key_node, ScalarNode):
                self.errors.append(f"{where}: {_dotted(loc)}: a key must be a plain name")
                continue
            key = str(key_node.value)
            path = (*loc, key)
            if key in own:
                self.errors.append(
                    f"{where}: {_dotted(path)}: defined twice, first at line {own[key].line}"
                )
                continue
            own[key] = where
            self.locations[path] = where
            result[key] = self.build(value_node, path)
        return result


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dotted(loc: Loc) -> str:
    """A path as users read it: ``tiers.free.quotas[0]``, ``models["gpt-4*"].free``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def _dotted(loc: Loc) -> str:
    return dotted(loc) or "(top level)"


def parse_document(path: str, text: str) -> tuple[Document | None, list[str]]:
    """Parse ``text`` (the content of ``path``); returns the document or the error lines."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(path, {}, {}), []
        builder = _Builder(path, loader)
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context else ""
        return None, [f"{path}:{line}: invalid YAML: {problem}{context}"]
    except yaml.YAMLError as exc:
        return None, [f"{path}:1: invalid YAML: {exc}"]
    finally:
        loader.dispose()
    if builder.errors:
        return None, builder.errors
    builder.locations.setdefault((), Location(path, node.start_mark.line + 1))
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else repr(data)
        line = node.start_mark.line + 1
        return None, [f"{path}:{line}: expected a mapping at the top level, got {kind}"]
    return Document(path, data, builder.locations), []
