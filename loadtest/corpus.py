"""Prompt corpora for evaluation: the full files named by ``DG_CORPORA_DIR``, or the shipped sample.

``load_prompts(kind)`` reads ``$DG_CORPORA_DIR/*.jsonl`` when that variable names a directory
(unless ``full=False``), else the deterministic sample in ``loadtest/corpora/``. Tuning and
reporting sets are split by SOURCE FILE, never by prompt (see ``split``), so a detector is
never reported on prompts from a file it was tuned on. A corpus file that gathers several
origin files (arena-hard: v0.1 and v2.0) is split by the origin each prompt's ``source`` names.
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

ARENA = "benign_arena_hard_user_prompts.jsonl"
ALL_FILES: tuple[str, ...] = (  # in the order of the split before arena-hard was split
    "benign_awesome_chatgpt_prompts.jsonl",
    "harvest_self_instruct_seed_user_oriented.jsonl",
    "harvest_gpteacher_synthetic.jsonl",
    ARENA,
    "harvest_gsm8k.jsonl",
)


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    source: str  # "<owner/repo>:<path>" of the origin
    kind: Kind
    file: str  # corpus file name, e.g. "harvest_gsm8k.jsonl"
    conv_id: str | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One unit of the split: a corpus file, or the prompts in it from one origin file."""

    file: str
    origin: str = ""  # how the prompts' ``source`` ends ("" = every prompt of the file)

    def holds(self, prompt: Prompt) -> bool:
        return prompt.file == self.file and prompt.source.endswith(self.origin)

    def __str__(self) -> str:
        return f"{self.file} ({self.origin})" if self.origin else self.file


# Real users' prompts are on both sides: arena-hard v0.1 tunes, v2.0 (other prompts, picked
# later, with creative writing) reports. A tuning split of "act as" prompts alone hid harm
# that real users' prompts show (research students, native-language tutors).
TUNING_PARTS: tuple[Part, ...] = (
    Part("benign_awesome_chatgpt_prompts.jsonl"),
    Part(ARENA, "arena-hard-v0.1/question.jsonl"),
    Part("harvest_self_instruct_seed_user_oriented.jsonl"),
    Part("harvest_gpteacher_synthetic.jsonl"),
)
REPORTING_PARTS: tuple[Part, ...] = (
    Part(ARENA, "arena-hard-v2.0/question.jsonl"),
    Part("harvest_gsm8k.jsonl"),
)


def files_of(parts: Sequence[Part]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.file for p in parts))


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
    tuning: Sequence[Part] = TUNING_PARTS,
    reporting: Sequence[Part] = REPORTING_PARTS,
) -> tuple[list[Prompt], list[Prompt]]:
    """(tuning, reporting) by source file. Parts that could hold one prompt on both sides
    (one file, one origin ending the other's) are an error."""
    for t in tuning:
        for r in reporting:
            if t.file == r.file and (t.origin.endswith(r.origin) or r.origin.endswith(t.origin)):
                raise ValueError(f"cannot be both tuning and reporting: {t} / {r}")
    return of_parts(prompts, tuning), of_parts(prompts, reporting)


def of_parts(prompts: Sequence[Prompt], parts: Sequence[Part]) -> list[Prompt]:
    return [p for p in prompts if any(part.holds(p) for part in parts)]
