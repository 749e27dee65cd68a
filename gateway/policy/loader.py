"""Load a policy from a file or a folder of files, with every error as ``file:line``.

A folder contributes its ``*.yaml`` / ``*.yml`` files in name order, following symlinks
(the Kubernetes ConfigMap layout, where ``name.yaml -> ..data/name.yaml``) and ignoring
dot-files and dot-directories themselves. Subfolders are not read. The files are merged by
top-level section: ``tiers`` from two files merge; the same tier (or model glob, route,
setting) defined in two places is an error naming both. Scalar sections (``version``,
``mode``) may repeat with the same value.

All errors are collected and raised at once as :class:`PolicyError`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.policy.checks import check_policy
from gateway.policy.compiled import CompiledPolicy
from gateway.policy.document import Document, Loc, Location, dotted, parse_document
from gateway.policy.messages import Located, issue_messages, validation_messages
from gateway.policy.schema import DEFER_CHECKS, Policy

PolicyPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
SUFFIXES = (".yaml", ".yml")


class PolicyError(Exception):
    """A policy that cannot be used; ``messages`` holds every problem, one line each."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated policy, its content version, the files it came from, and the policy
    compiled for the request path (built here, once per version)."""

    policy: Policy
    version: str
    sources: tuple[str, ...]
    compiled: CompiledPolicy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", CompiledPolicy(self.policy, self.version))


def _as_list(paths: PolicyPaths) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    return [os.fspath(path) for path in paths]


def policy_files(paths: PolicyPaths) -> tuple[list[str], list[str]]:
    """The policy files named by ``paths`` (as the user wrote them) and the errors."""
    files: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            files.append(path)

    for given in _as_list(paths):
        if os.path.isdir(given):
            found = 0
            for name in sorted(os.listdir(given)):
                full = os.path.join(given, name)
                if name.startswith(".") or not name.endswith(SUFFIXES) or os.path.isdir(full):
                    continue
                if not os.path.exists(full):
                    errors.append(f"{full}: broken symlink")
                    continue
                found += 1
                add(full)
            if not found and not errors:
                errors.append(f"{given}: no policy files (*.yaml, *.yml) in this folder")
        elif os.path.isfile(given):
            add(given)
        else:
            errors.append(f"{given}: no such file or directory")
    return files, errors


def _read(path: str) -> tuple[Document | None, list[str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [f"{path}: not UTF-8 text"]
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc.strerror or exc}"]
    return parse_document(path, text)


def _merge(
    documents: Sequence[Document],
) -> tuple[dict[str, Any], dict[Loc, Location], list[Located]]:
    data: dict[str, Any] = {}
    locations: dict[Loc, Location] = {}
    errors: list[Located] = []

    def twice(loc: Loc, where: Location) -> None:
        errors.append((where, f"{where}: {dotted(loc)}: defined twice, first in {locations[loc]}"))

    for doc in documents:
        for key, value in doc.data.items():
            where = doc.locations[(key,)]
            if key not in data:
                data[key] = dict(value) if isinstance(value, dict) else value
            elif isinstance(data[key], dict) and isinstance(value, dict):
                for sub, sub_value in value.items():
                    if sub in data[key]:
                        twice((key, sub), doc.locations[(key, sub)])
                    else:
                        data[key][sub] = sub_value
            elif isinstance(value, dict | list) or data[key] != value:
                twice((key,), where)
        for loc, location in doc.locations.items():
            locations.setdefault(loc, location)
    return data, locations, errors


def policy_version(policy: Policy) -> str:
    """Short hash of the policy's canonical content: equal policies have equal versions,
    however they are spelled or split into files."""
    canonical = json.dumps(
        policy.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_policy(paths: PolicyPaths) -> LoadedPolicy:
    """Load, merge and validate; raise :class:`PolicyError` with every problem found."""
    files, errors = policy_files(paths)
    documents: list[Document] = []
    for path in files:
        document, problems = _read(path)
        errors.extend(problems)
        if document is not None:
            documents.append(document)
    if errors or not documents:
        raise PolicyError(errors or ["no policy files given"])
    data, locations, located = _merge(documents)
    root = locations.get((), Location(documents[0].path, 1))
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data, context={DEFER_CHECKS: True})
    except ValidationError as exc:
        schema = Policy.model_json_schema(by_alias=True)
        located.extend(validation_messages(exc, locations, root, schema))
    located.extend(issue_messages(check_policy(data), locations, root))
    if located or policy is None:
        order = {doc.path: index for index, doc in enumerate(documents)}
        located.sort(key=lambda item: (order.get(item[0].path, 0), item[0].line))
        raise PolicyError([text for _, text in located])
    return LoadedPolicy(policy, policy_version(policy), tuple(doc.path for doc in documents))
