"""Templated harvest prompts (one CoT template around many questions) vs benign prompts.

Real questions from the shipped sample (GSM8K, self-instruct) wrapped in chain-of-thought
templates of the kinds harvesters use. The skeleton hash differs per question (the slot is
a whole question) but the frame is one value per template, while 50 benign prompts keep
many distinct frames (or none).
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter

import pytest

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.simhash import hamming
from gateway.model import Fingerprint
from loadtest.corpus import load_prompts

TEMPLATES = {
    "problem": "Solve the following problem step by step.\n\nProblem: {q}\n\n"
    "Show your reasoning before the final answer.",
    "qa": "Question: {q}\nAnswer: Let's think step by step.",
    "prefix": "You are a meticulous math tutor. Explain your reasoning in detail.\n\n{q}",
    "suffix": "{q}\n\nArticulate the internal reasoning behind your answer step by step, "
    "then give the final answer.",
    "inline": "Please solve this and explain your reasoning step by step. {q}",
}


def sample(file: str, n: int = 50, seed: int = 7) -> list[str]:
    texts = [p.text for p in load_prompts(files=[file], full=False)]
    return random.Random(seed).sample(texts, n)


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def prints(fp: Fingerprinter, texts: list[str]) -> list[Fingerprint]:
    return [fp.fingerprint_text(t) for t in texts]


def mean_distance(fps: list[Fingerprint]) -> float:
    return statistics.fmean(
        hamming(a.simhash, b.simhash) for a, b in itertools.combinations(fps, 2)
    )


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_one_template_has_one_frame(fp: Fingerprinter, name: str) -> None:
    questions = sample("harvest_gsm8k.jsonl")
    wrapped = prints(fp, [TEMPLATES[name].format(q=q) for q in questions])
    frames = {f.frame for f in wrapped}
    assert len(frames) == 1 and 0 not in frames
    assert len({f.skeleton for f in wrapped}) >= 45  # the slot is a whole question
    assert all(f.elicitation >= 0.5 for f in wrapped)
    assert len({f.cell for f in wrapped}) >= 45  # cells follow the questions, not the template


def test_benign_prompts_have_diverse_or_no_frames(fp: Fingerprinter) -> None:
    benign = prints(fp, sample("benign_arena_hard_user_prompts.jsonl"))
    frames = [f.frame for f in benign if f.frame]
    assert len(set(frames)) == len(frames)  # no frame shared by two benign prompts
    assert len({f.skeleton for f in benign}) == 50
    raw = prints(fp, sample("harvest_gsm8k.jsonl"))
    assert all(f.frame == 0 for f in raw)  # a bare question has no template


def test_templated_simhashes_are_closer_than_benign(fp: Fingerprinter) -> None:
    questions = sample("harvest_gsm8k.jsonl")
    benign = mean_distance(prints(fp, sample("benign_arena_hard_user_prompts.jsonl")))
    raw = mean_distance(prints(fp, questions))
    for template in TEMPLATES.values():
        wrapped = mean_distance(prints(fp, [template.format(q=q) for q in questions]))
        # measured on the sample: 23.6-26.8 bits wrapped vs 28.8 raw GSM8K and 29.6 benign
        assert wrapped < raw - 1.0 and wrapped < benign - 2.0


def test_quoted_slot_collapses_the_skeleton(fp: Fingerprinter) -> None:
    questions = [q for q in sample("harvest_gsm8k.jsonl", 80) if '"' not in q and len(q) < 400]
    wrapped = prints(fp, [f'Answer the question "{q}" and show your work.' for q in questions])
    assert len({f.skeleton for f in wrapped}) == 1
    assert len({f.cell for f in wrapped}) >= 0.9 * len(questions)  # topic still comes through


def test_multi_line_instructions_keep_diverse_frames(fp: Fingerprinter) -> None:
    """Documented limit: a multi-line question leaves its other lines in the frame."""
    tasks = sample("harvest_self_instruct_seed_user_oriented.jsonl")
    wrapped = prints(fp, [TEMPLATES["problem"].format(q=q) for q in tasks])
    multi = [f for f, t in zip(wrapped, tasks, strict=True) if "\n" in t]
    single = [f for f, t in zip(wrapped, tasks, strict=True) if "\n" not in t]
    assert multi and single
    common = Counter(f.frame for f in single).most_common(1)[0][1]
    assert common >= 0.8 * len(single)  # a colon inside a task ("Classify: ...") splits too
    assert len({f.frame for f in multi}) > len(multi) // 2
