"""Prompt pools for the generators: benign and harvest prompts from one side of the split.

Split by SOURCE FILE, never by prompt (``loadtest.corpus``): the kit tunes on the tuning parts
and reports on the reporting parts (a file of several origins is split by origin). Files
given on the command line are all used as they are (their role is what the caller says).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from loadtest.corpus import (
    FULL_ENV,
    REPORTING_PARTS,
    SAMPLE_DIR,
    TUNING_PARTS,
    Prompt,
    corpus_dir,
    files_of,
    load_prompts,
    of_parts,
    read_file,
)

Split = Literal["tuning", "reporting"]


@dataclass(frozen=True, slots=True)
class Pools:
    """The prompts the generators draw from, and where they came from."""

    benign: tuple[str, ...]
    harvest: tuple[str, ...]
    conversations: tuple[tuple[str, ...], ...]  # benign multi-turn conversations (conv_id)
    split: str
    files: dict[str, list[str]] = field(default_factory=dict)  # "benign"/"harvest" -> files
    directory: str = ""


def _conversations(prompts: Sequence[Prompt]) -> tuple[tuple[str, ...], ...]:
    convs: dict[str, list[tuple[int, str]]] = {}
    for p in prompts:
        if p.conv_id is not None:
            convs.setdefault(p.conv_id, []).append((p.turn or 0, p.text))
    return tuple(tuple(t for _, t in sorted(turns)) for turns in convs.values() if len(turns) > 1)


def _singles(prompts: Sequence[Prompt]) -> tuple[str, ...]:
    return tuple(p.text for p in prompts if p.conv_id is None or (p.turn or 0) <= 1)


def load_pools(
    split: Split, benign_files: Sequence[str] = (), harvest_files: Sequence[str] = ()
) -> Pools:
    """Pools of ``split`` from the project's corpora, or from the given JSONL files."""
    base = corpus_dir()
    parts = TUNING_PARTS if split == "tuning" else REPORTING_PARTS
    names = files_of(parts)
    if benign_files:
        benign = [p for f in benign_files for p in read_file(Path(f))]
        b_names = [Path(f).name for f in benign_files]
    else:
        benign = of_parts(load_prompts("benign", names), parts)
        b_names = [str(p) for p in parts if p.file.startswith("benign_")]
    if harvest_files:
        harvest = [p for f in harvest_files for p in read_file(Path(f))]
        h_names = [Path(f).name for f in harvest_files]
    else:
        harvest = of_parts(load_prompts("harvest", names), parts)
        h_names = [str(p) for p in parts if p.file.startswith("harvest_")]
    if not benign or not harvest:
        raise ValueError("need at least one benign and one harvest prompt")
    given = bool(benign_files or harvest_files)
    return Pools(
        benign=_singles(benign),
        harvest=tuple(p.text for p in harvest),
        conversations=_conversations(benign),
        split="command line" if given else split,
        files={"benign": b_names, "harvest": h_names},
        directory="" if given else _named(base),
    )


def _named(base: Path) -> str:
    """Where the files came from, as a report may say it: the bundled sample by its path in
    the repository, the full corpora by the variable that named them (never a local path)."""
    if base == SAMPLE_DIR:
        return "loadtest/corpora"
    return f"${FULL_ENV}"
