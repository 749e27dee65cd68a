"""docs/threat-model.md stays true of the tree: every section ends in a claim -> test table,
and every test it names (``path`` or ``path::test_name``, ``::test_name`` meaning the last
path of the row) exists; a claim without a test says "(not covered by a test)"."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "threat-model.md"
HEADER = "| claim | test |"
NOT_COVERED = "(not covered by a test)"
_TICKED = re.compile(r"`([^`]+)`")


def _sections(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            out.append((line[3:].strip(), []))
        elif out:
            out[-1][1].append(line)
    return out


def _claim_rows(lines: list[str]) -> list[str]:
    rows: list[str] = []
    inside = False
    for line in lines:
        if line.strip() == HEADER:
            inside = True
        elif inside and line.startswith("|") and not line.startswith("|---"):
            rows.append(line)
        elif not line.startswith("|"):
            inside = False
    return rows


def _test_cell(row: str) -> str:
    return row.rstrip().removesuffix("|").rsplit(" | ", 1)[-1]


def _has_test(path: Path, name: str) -> bool:
    pattern = rf"^(async )?def {re.escape(name)}\("
    return re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE) is not None


def _row_problems(row: str, root: Path) -> list[str]:
    cell = _test_cell(row)
    problems: list[str] = []
    current: Path | None = None
    tests = 0
    for token in _TICKED.findall(cell):
        name = ""
        if token.startswith("::"):
            name = token[2:]
            if current is None:
                problems.append(f"{token} has no path before it in: {row[:80]}")
                continue
        elif token.startswith(("tests/", "loadtest/", "gateway/")):
            path_text, _, name = token.partition("::")
            current = root / path_text
            if not current.exists():
                problems.append(f"missing path {path_text}")
                current = None
                continue
        else:
            continue
        if current is not None and current.is_relative_to(root / "tests"):
            tests += 1
        if name and current is not None and not _has_test(current, name):
            problems.append(f"missing test {current.relative_to(root)}::{name}")
    if tests == 0 and NOT_COVERED not in cell:
        problems.append(f"no test and no {NOT_COVERED!r} in: {row[:80]}")
    return problems


def doc_problems(text: str, root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    for title, lines in _sections(text):
        content = [line for line in lines if line.strip()]
        if HEADER not in (line.strip() for line in content) or not content[-1].startswith("|"):
            problems.append(f"section {title!r} does not end in a claim -> test table")
            continue
        last_header = max(i for i, line in enumerate(content) if line.strip() == HEADER)
        if not all(line.startswith("|") for line in content[last_header:]):
            problems.append(f"section {title!r} has text after its claim -> test table")
        rows = _claim_rows(lines)
        if not rows:
            problems.append(f"section {title!r} has an empty claim -> test table")
        for row in rows:
            problems += _row_problems(row, root)
    return problems


def test_every_section_ends_in_a_table_whose_tests_exist() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert len(_sections(text)) >= 6
    assert len(_claim_rows(text.splitlines())) >= 40
    assert doc_problems(text) == []


def test_the_checker_finds_what_it_looks_for() -> None:
    here = "tests/unit/test_threat_model_doc.py"
    cited = f"`{here}::test_the_checker_finds_what_it_looks_for`"
    good = f"## A\n\ntext\n\n{HEADER}\n|---|---|\n| x | {cited} |\n"
    assert doc_problems(good) == []
    assert doc_problems(good.replace("looks_for`", "looks_for_not`")) == [
        f"missing test {here}::test_the_checker_finds_what_it_looks_for_not"
    ]
    assert "missing path tests/unit/nothing.py" in doc_problems(
        good.replace(here, "tests/unit/nothing.py")
    )
    assert doc_problems(good + "\nafterword\n") == [
        "section 'A' does not end in a claim -> test table"
    ]
    assert doc_problems(good.replace(cited, "x")) == [
        f"no test and no {NOT_COVERED!r} in: | x | x |"
    ]
    assert doc_problems(good.replace(cited, f"{NOT_COVERED}: measured")) == []
    assert doc_problems("## B\n\nonly prose\n") == [
        "section 'B' does not end in a claim -> test table"
    ]
