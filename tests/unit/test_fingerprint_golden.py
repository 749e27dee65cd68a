"""Fingerprints are frozen: the same prompts give the values recorded from the reference
implementation (detection thresholds were calibrated on them).

``fingerprint_golden.json`` holds, for 290 prompts of the shipped corpus sample (every
sixth prompt, bench-sized joins of them, a few with system prompts, templates and edge
cases), every ``Fingerprint`` field plus a digest of the readable skeleton. A speed-up of
the pipeline must leave every value identical. Regenerate ONLY for an intended change of the
fingerprint definition (then recalibrate detection):

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m tests.unit.test_fingerprint_golden
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any

import pytest

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.model import Fingerprint
from loadtest.corpus import load_prompts

GOLDEN = Path(__file__).resolve().parent / "fingerprint_golden.json"
_STEP = 6

_EDGE = (
    "",
    "   \n\t ",
    "一步一步地思考。请解释你的推理过程：小明有3个苹果。",
    "İstanbul 😀 Straße ǅ ﬁ ＡＢＣ１２３",
    "x" * 20_000,
    "Email me at jane.doe+test@example.co.uk or see https://example.com/a?b=1 and www.x.org/y",
    "He said \"hello world\" and 'quoted text' and “curly” «guillemets» „low“ 「kagi」 『double』",
    "```python\nprint('hi')\n```\nExplain this `inline_code()` step by step.",
    "Question: Janet has 3 apples and Tom has 7 pears.\nAnswer: Let's think step by step.",
    "Solve step by step: Tom has 7 pears. Show your reasoning.",
    "Grade the following answer on a scale of 1 to 10 using the rubric below:\n"
    "Answer: Paris is the capital of France.",
    "Пожалуйста, объясни свои рассуждения шаг за шагом: сколько будет 2+2?",
    "Réfléchis étape par étape et explique ton raisonnement : combien font 3×4 ?",
    "a" * 30 + " " + "B" * 30 + " 0x" + "f" * 40 + " NASA Apollo Mission: iPhone eBay",
)

_SYSTEMS = (
    "You are a helpful assistant.",
    "Always explain your reasoning step by step before the final answer.",
    "Réponds en français.",
)


def golden_inputs() -> list[tuple[str, str]]:
    """(prompt, system) pairs: deterministic, from the shipped corpus sample."""
    texts = [p.text for p in load_prompts(full=False)]
    pairs = [(t, "") for t in texts[::_STEP]]
    for size in (100, 500, 2000):  # bench-like joins, original whitespace kept
        for start in range(0, 60, 20):
            joined = "\n\n".join(texts[start * 7 : start * 7 + 40])
            words = joined.split()
            pairs.append((" ".join(words[:size]) if start == 0 else _cut(joined, size), ""))
    pairs.extend((t, s) for t in texts[1:40:13] for s in _SYSTEMS)
    pairs.extend((t, "") for t in _EDGE)
    return pairs


def _cut(text: str, words: int) -> str:
    seen = 0
    in_word = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if in_word:
                seen += 1
                if seen == words:
                    return text[:i]
            in_word = False
        else:
            in_word = True
    return text


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def key(text: str, system: str) -> dict[str, str]:
    """Which input a row is of (a readable head and a digest of the whole)."""
    return {"head": text[:80], "input": digest(text + "\x00" + system)}


def record(fp: Fingerprinter, text: str, system: str) -> dict[str, Any]:
    got = astuple(fp.fingerprint_text(text, system))
    return {
        "fingerprint": json.loads(json.dumps(got)),
        "skeleton_text": digest(fp.skeletonizer.text(text)),
    }


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return rows


def test_golden_covers_the_inputs(golden: list[dict[str, Any]]) -> None:
    inputs = golden_inputs()
    assert len(golden) == len(inputs) >= 250
    assert [g["input"] for g in golden] == [key(t, s)["input"] for t, s in inputs]
    cells = {g["fingerprint"][4] for g in golden}
    frames = [g for g in golden if g["fingerprint"][10]]
    assert len(cells) > 200 and len(frames) > 20  # the sample exercises every output


def test_fingerprints_match_the_recorded_values(golden: list[dict[str, Any]]) -> None:
    fp = Fingerprinter()
    mismatches = [
        (i, g["head"])
        for i, ((text, system), g) in enumerate(zip(golden_inputs(), golden, strict=True))
        if record(fp, text, system) != {k: g[k] for k in ("fingerprint", "skeleton_text")}
    ]
    assert mismatches == []


def test_the_request_paths_cell_is_the_recorded_cell(golden: list[dict[str, Any]]) -> None:
    """The request path computes only the novelty cell (``cell_of``, no exact, frame or
    SimHash hash); it is the recorded fingerprint's cell for every input. The whole
    fingerprint made after the response from the request path's skeleton (and cell) is the
    recorded one too."""
    fp = Fingerprinter()
    mismatches = [
        (i, g["head"])
        for i, ((text, system), g) in enumerate(zip(golden_inputs(), golden, strict=True))
        if fp.cell_of(text) != g["fingerprint"][4]
        or any(
            json.loads(json.dumps(astuple(fp.fingerprint_text(text, system, None, sk, cell))))
            != g["fingerprint"]
            for sk, cell in ((fp.skeleton_of(text), None), (fp.skeleton_of(text), fp.cell_of(text)))
        )
    ]
    assert mismatches == []


def test_the_frame_print_has_the_recorded_frame(golden: list[dict[str, Any]]) -> None:
    """Linking alone reads the template frame: the frame print's is the recorded one, made
    from the request path's skeleton or from the text; nothing else is hashed."""
    fp = Fingerprinter()
    frame_at = [f.name for f in fields(Fingerprint)].index("frame")
    mismatches = []
    for i, ((text, system), g) in enumerate(zip(golden_inputs(), golden, strict=True)):
        body = {
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": text}]
        }
        for sk in (None, fp.skeleton_of(text)):
            got = fp.fingerprint(body, "chat", sk, fp.cell_of(text), frame_only=True)
            if got.frame != g["fingerprint"][frame_at] or (got.exact, got.simhash) != (0, 0):
                mismatches.append((i, g["head"], sk is None))
    assert mismatches == []


def test_the_whole_fingerprint_reuses_the_request_paths_cell() -> None:
    """Given the request path's skeleton and cell, the whole fingerprint takes the cell as
    it is (no second embedding); without the skeleton a cell is not trusted."""
    fp = Fingerprinter()
    text = "Explain step by step how a compiler turns source code into machine code."
    sk, cell = fp.skeleton_of(text), fp.cell_of(text)
    other = (cell + 1) % (1 << 14)
    assert fp.fingerprint_text(text, "", None, sk, other).cell == other
    assert fp.fingerprint_text(text, "", None, None, other).cell == cell


def main() -> None:
    fp = Fingerprinter()
    rows = [{**key(text, system), **record(fp, text, system)} for text, system in golden_inputs()]
    lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    GOLDEN.write_text("[\n" + lines + "\n]\n", encoding="utf-8")
    print(f"wrote {len(rows)} fingerprints to {GOLDEN}")


if __name__ == "__main__":
    main()
