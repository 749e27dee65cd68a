"""Prompt corpora for evaluation: the full files named by ``DG_CORPORA_DIR``, or the shipped sample.

``load_prompts(kind)`` reads ``$DG_CORPORA_DIR/*.jsonl`` when that variable names a directory
(unless ``full=False``), else the deterministic sample in ``loadtest/corpora/``. Tuning and
reporting sets are split by SOURCE FILE, never by prompt (see ``split``), so a detector is
never reported on prompts from a file it was tuned on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["benign", "harvest"]

SAMPLE_DIR = Path(__file__).resolve().parent / "corpora"
FULL_ENV = "DG_CORPORA_DIR"  # a folder with the full corpus files (the sample's file names)

TUNING_FILES: tuple[str, ...] = (
    "benign_awesome_chatgpt_prompts.jsonl",
    "harvest_self_instruct_seed_user_oriented.jsonl",
    "harvest_gpteacher_synthetic.jsonl",
)
REPORTING_FILES: tuple[str, ...] = (
    "benign_arena_hard_user_prompts.jsonl",
    "harvest_gsm8k.jsonl",
)
ALL_FILES: tuple[str, ...] = TUNING_FILES + REPORTING_FILES


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    source: str  # "<owner/repo>:<path>" of the origin
    kind: Kind
    file: str  # corpus file name, e.g. "harvest_gsm8k.jsonl"
    conv_id: str | None = None
    turn: int | None = None


def corpus_dir(full: bool | None = None) -> Path:
    """The full corpora when present and allowed (``full`` None or True), else the sample.

    ``full=True`` insists on the full files and fails when they are missing.
    """
    named = os.environ.get(FULL_ENV, "")
    full_dir = Path(named) if named else None
    if full is not False and full_dir is not None and full_dir.is_dir():
        return full_dir
    if full:
        raise FileNotFoundError(f"full corpora not found: set {FULL_ENV} to their folder")
    return SAMPLE_DIR


def kind_of(file: str) -> Kind:
    if file.startswith("benign_"):
        return "benign"
    if file.startswith("harvest_"):
        return "harvest"
    raise ValueError(f"corpus file name must start with benign_ or harvest_: {file}")


def read_file(path: Path) -> list[Prompt]:
    """All prompts of one JSONL corpus file, in file order."""
    prompts: list[Prompt] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            kind = row.get("kind") or kind_of(path.name)
            if kind not in ("benign", "harvest"):
                raise ValueError(f"{path.name}: unknown kind {kind!r}")
            prompts.append(
                Prompt(
                    text=str(row["text"]),
                    source=str(row.get("source", "")),
                    kind=kind,
                    file=path.name,
                    conv_id=row.get("conv_id"),
                    turn=row.get("turn"),
                )
            )
    return prompts


def load_prompts(
    kind: Kind | None = None, files: Iterable[str] | None = None, full: bool | None = None
) -> list[Prompt]:
    """Prompts of one kind (or both), from the given corpus files (default: all)."""
    base = corpus_dir(full)
    names = tuple(files) if files is not None else ALL_FILES
    out: list[Prompt] = []
    for name in names:
        if kind is not None and kind_of(name) != kind:
            continue
        out.extend(read_file(base / name))
    return out


def split(
    prompts: Sequence[Prompt],
    tuning_files: Sequence[str] = TUNING_FILES,
    reporting_files: Sequence[str] = REPORTING_FILES,
) -> tuple[list[Prompt], list[Prompt]]:
    """(tuning, reporting) by source file. A file in both lists is an error."""
    overlap = set(tuning_files) & set(reporting_files)
    if overlap:
        raise ValueError(f"files cannot be both tuning and reporting: {sorted(overlap)}")
    tuning = [p for p in prompts if p.file in tuning_files]
    reporting = [p for p in prompts if p.file in reporting_files]
    return tuning, reporting
