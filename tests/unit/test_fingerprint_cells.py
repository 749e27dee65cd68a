"""Semantic cells: unrelated prompts spread out, near-duplicates mostly share a cell.

Measured on the full corpora (5 draws of 300 prompts, cell_bits=14, margin scheme):
distinct cells per 300 prompts: arena 295, awesome (218) 212, GSM8K 294, self-instruct 294,
GPTeacher 148 (its Toolformer prompts share long tool descriptions). Collision of a prompt
with its variant: renumbered 1.00, template changed 1.00, courtesy words added 0.82-0.88,
lower-cased and unpunctuated 0.99, 10 % of words dropped 0.43-0.54.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from gateway.fingerprints.cells import HyperplaneCells
from gateway.fingerprints.embed import HashedNgramEmbedder
from gateway.fingerprints.fingerprint import Fingerprinter
from loadtest.corpus import load_prompts


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def texts(file: str) -> list[str]:
    return [p.text for p in load_prompts(files=[file], full=False)]


def distinct_cells(fp: Fingerprinter, prompts: list[str]) -> int:
    return len({fp.fingerprint_text(t).cell for t in prompts})


def collision_rate(fp: Fingerprinter, pairs: list[tuple[str, str]]) -> float:
    hits = [fp.fingerprint_text(a).cell == fp.fingerprint_text(b).cell for a, b in pairs]
    return sum(hits) / len(hits)


@pytest.mark.parametrize(
    ("file", "low"),
    [
        ("benign_arena_hard_user_prompts.jsonl", 285),
        ("harvest_gsm8k.jsonl", 285),
        ("harvest_self_instruct_seed_user_oriented.jsonl", 285),
    ],
)
def test_unrelated_prompts_spread_over_many_cells(fp: Fingerprinter, file: str, low: int) -> None:
    prompts = random.Random(0).sample(texts(file), 300)
    assert distinct_cells(fp, prompts) >= low


def test_near_duplicates_share_a_cell(fp: Fingerprinter) -> None:
    rng = random.Random(5)
    questions = rng.sample(texts("harvest_gsm8k.jsonl"), 150)

    def renumber(t: str) -> str:
        return re.sub(r"\d+", lambda m: str(rng.randint(2, 99)), t)

    assert collision_rate(fp, [(q, renumber(q)) for q in questions]) >= 0.97
    wrapped = [(f"Question: {q}\nAnswer:", f"{q}\n\nLet's think step by step.") for q in questions]
    assert collision_rate(fp, wrapped) >= 0.95
    assert collision_rate(fp, [(q, f"Hi! {q} Thanks!") for q in questions]) >= 0.7
    lowered = [(q, q.lower().rstrip("?.!")) for q in questions]
    assert collision_rate(fp, lowered) >= 0.9


def test_cells_stay_in_range_for_other_widths() -> None:
    rng = np.random.default_rng(1)
    for bits, scheme in ((14, "sign"), (10, "margin"), (9, "margin"), (3, "margin")):
        cells = HyperplaneCells(64, cell_bits=bits, scheme=scheme)  # type: ignore[arg-type]
        values = {cells.cell(rng.standard_normal(64).astype(np.float32)) for _ in range(400)}
        assert all(0 <= v < 2**bits for v in values)
        assert len(values) > min(2**bits, 400) // 4


def test_a_custom_embedder_plugs_in() -> None:
    class Letters:
        """A toy embedder: letter frequencies."""

        dim = 32

        def embed(self, text: str) -> np.ndarray:
            vec = np.zeros(self.dim, dtype=np.float32)
            for ch in text.lower():
                if "a" <= ch <= "z":
                    vec[ord(ch) - 97] += 1
            norm = float(np.linalg.norm(vec))
            return vec / norm if norm else vec

    fp = Fingerprinter(embedder=Letters(), cell_bits=10)
    a = fp.fingerprint_text("Question: Janet has three apples.\nAnswer:")
    b = fp.fingerprint_text("Question: Janet has three apples.\nAnswer: think")
    assert 0 <= a.cell < 2**10
    assert a.cell == b.cell  # the template lines are not embedded, only the body
    assert isinstance(HashedNgramEmbedder(), object)
