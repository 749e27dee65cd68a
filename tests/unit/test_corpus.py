"""The shipped corpus sample and its loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.corpus import (
    ALL_FILES,
    ARENA,
    REPORTING_PARTS,
    SAMPLE_DIR,
    TUNING_PARTS,
    Part,
    Prompt,
    files_of,
    load_prompts,
    read_file,
    split,
)

EXPECTED = {
    "benign_arena_hard_user_prompts.jsonl": 300,
    "benign_awesome_chatgpt_prompts.jsonl": 218,
    "harvest_gsm8k.jsonl": 300,
    "harvest_gpteacher_synthetic.jsonl": 300,
    "harvest_self_instruct_seed_user_oriented.jsonl": 427,
}


def test_sample_files_sizes_and_attribution() -> None:
    total = 0
    for name, lines in EXPECTED.items():
        path = SAMPLE_DIR / name
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == lines
        assert len({r["text"] for r in rows}) == lines  # de-duplicated
        assert {r["kind"] for r in rows} == {name.split("_")[0]}
        total += path.stat().st_size
    assert total < 2 * 1024 * 1024
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    facts = ["Apache-2.0", "CC0-1.0", "MIT", "lmarena/arena-hard-auto", "openai/grade-school-math"]
    facts += ["teknium1/GPTeacher", "yizhongw/self-instruct", "f/awesome-chatgpt-prompts"]
    for fact in facts:
        assert fact in readme


def test_load_prompts_from_the_sample_by_kind() -> None:
    benign = load_prompts("benign", full=False)
    harvest = load_prompts("harvest", full=False)
    assert len(benign) == 518 and len(harvest) == 1027
    assert all(p.kind == "benign" and p.file.startswith("benign_") for p in benign)
    assert {p.text for p in benign}.isdisjoint(p.text for p in harvest)
    gsm = load_prompts(files=["harvest_gsm8k.jsonl"], full=False)
    assert len(gsm) == 300 and gsm[0].source.startswith("openai/grade-school-math:")
    assert load_prompts("benign", files=["harvest_gsm8k.jsonl"], full=False) == []
    with pytest.raises(AttributeError):
        gsm[0].text = "x"  # type: ignore[misc]


def test_split_is_by_file_never_by_prompt() -> None:
    prompts = load_prompts(full=False)
    tuning, reporting = split(prompts)
    assert {p.file for p in tuning} == set(files_of(TUNING_PARTS))
    assert {p.file for p in reporting} == set(files_of(REPORTING_PARTS))
    assert set(files_of(TUNING_PARTS)) | set(files_of(REPORTING_PARTS)) == set(ALL_FILES)
    assert {p.kind for p in tuning} == {p.kind for p in reporting} == {"benign", "harvest"}
    assert len(tuning) + len(reporting) == len(prompts)  # every prompt on exactly one side
    assert {p.text for p in tuning}.isdisjoint(p.text for p in reporting)
    with pytest.raises(ValueError):
        split([], tuning=[Part("a.jsonl")], reporting=[Part("a.jsonl")])
    with pytest.raises(ValueError):
        split([], tuning=[Part("a.jsonl")], reporting=[Part("a.jsonl", "v2/q.jsonl")])


def test_arena_is_split_by_its_origin_file() -> None:
    arena = load_prompts("benign", [ARENA], full=False)
    tuning, reporting = split(arena)
    assert {p.source.rsplit(":", 1)[1] for p in tuning} == {"data/arena-hard-v0.1/question.jsonl"}
    assert {p.source.rsplit(":", 1)[1] for p in reporting} == {
        "data/arena-hard-v2.0/question.jsonl"
    }
    assert len(tuning) == 118 and len(reporting) == 182
    assert str(TUNING_PARTS[1]) == f"{ARENA} (arena-hard-v0.1/question.jsonl)"


def test_read_file_checks_kinds(tmp_path: Path) -> None:
    good = tmp_path / "benign_x.jsonl"
    good.write_text(
        '{"text": "hi", "source": "s", "conv_id": "c1", "turn": 2}\n\n', encoding="utf-8"
    )
    assert read_file(good) == [Prompt("hi", "s", "benign", "benign_x.jsonl", "c1", 2)]
    bad = tmp_path / "other.jsonl"
    bad.write_text('{"text": "hi"}\n', encoding="utf-8")
    with pytest.raises(ValueError):
        read_file(bad)
