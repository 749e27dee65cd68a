"""The distillation-product lexicon (gateway.fingerprints.product_terms): asks for new items
with solutions, soft labels, programs and corrections, in wordings other than red round 6's;
ordinary prompts and CoT asks do not hit; the fingerprint carries the score apart from the
CoT elicitation score."""

from __future__ import annotations

import functools

import pytest

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.lexicon import Lexicon
from gateway.fingerprints.product_terms import PRODUCT_TERMS
from loadtest.corpus import load_prompts

TASK = (
    "A baker sells 48 loaves on Monday and half as many on Tuesday. How many loaves does "
    "she sell on the two days?"
)
# (kind, text): none of them is one of red round 6's templates
ASKS = [
    ("synth", f"{TASK}\n\nGenerate 10 similar word problems and give the answer to each."),
    ("synth", f"Seed task: {TASK}\nCome up with five more diverse tasks like this one."),
    ("synth", "I want you to act as a Prompt Rewriter. #Given Prompt#: sort a list. "
              "#Rewritten Prompt#:"),
    ("synth", f"{TASK}\n\nGenera 5 problemas nuevos del mismo tipo con su solución."),
    ("synth", f"{TASK}\n\nErstelle 6 neue Aufgaben dieser Art mit Lösungen."),
    ("synth", f"{TASK}\n\n请生成5道类似的题目并给出答案。"),
    ("soft", f"{TASK}\nRank the candidate answers and assign a probability to each."),
    ("soft", f"{TASK}\nGive a probability distribution over the possible outcomes."),
    ("soft", f"{TASK}\nWhat are the plausible answers? State how likely each is, as a percentage."),
    ("program", f"{TASK}\nTranslate the problem into Python code and print the result."),
    ("program", f"Use program-of-thought: {TASK}"),
    ("program", f"{TASK}\n# write def solution() returning the number of loaves"),
    ("program", f"{TASK}\n用Python函数求解。请写一个python函数"),
    ("critique", f"{TASK}\nStudent answer: 48 + 24 = 82.\nIdentify the first incorrect step."),
    ("critique", f"{TASK}\nProposed solution: 48 / 2 = 24, 48 + 24 = 70.\nFind the error and "
                 "give the corrected solution."),
    ("critique", f"{TASK}\nLabel each step as correct or incorrect."),
    ("critique", f"{TASK}\nSolución: 48 + 24 = 70. ¿Dónde está el error?"),
    ("critique", f"{TASK}\n解答：48+24=70。错在哪里？"),
]  # fmt: skip
ORDINARY = [
    TASK,
    "What is the capital of Australia?",
    "Write a short poem about autumn leaves.",
    "Summarise this email for me: the meeting moved to Thursday at 3pm.",
    "Explain how a transistor works.",
    "Let's think step by step: what is 17 * 23?",
    "How do I make sourdough bread?",
    "Translate 'good morning' into French.",
    # a code assistant's everyday asks: commented code is not program-of-thought
    "Sketch the implementation (Python), comment each step:\nparse a CSV of orders by date",
    "Write a Python function for this, commented line by line: dedupe a list keeping order",
    "Add a comment on every line of this function so my team can follow it.",
]


@functools.cache
def _lexicon() -> Lexicon:
    return Lexicon(PRODUCT_TERMS)


@pytest.mark.parametrize(("kind", "text"), ASKS)
def test_product_asks_hit_with_a_term_of_their_kind(kind: str, text: str) -> None:
    got = _lexicon().score(text)
    kinds = {t.kind for t in PRODUCT_TERMS if t.id in got.terms}
    assert kind in kinds, (got, text)
    assert got.score >= 0.3


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_prompts_and_cot_asks_do_not_hit(text: str) -> None:
    assert _lexicon().score(text).terms == ()


def test_false_hit_rate_on_the_benign_sample_is_bounded() -> None:
    """Measured on the shipped sample: 2.7 % of arena-hard prompts (mean score 0.011, mostly
    "fix it" / "correct answer" in a debugging ask) and 0.9 % of awesome-chatgpt prompts
    (mean 0.005) hit; the whole arena file 2.2 % (mean 0.010). The detector counts these asks
    only in a sweep, and an honest stream's mean stays far under PRODUCT_MEAN's low end
    (0.1)."""
    rates = {}
    means = {}
    for file in ("benign_arena_hard_user_prompts.jsonl", "benign_awesome_chatgpt_prompts.jsonl"):
        prompts = [p.text for p in load_prompts(files=[file], full=False)]
        scores = [_lexicon().score(t).score for t in prompts]
        rates[file] = sum(s > 0 for s in scores) / len(scores)
        means[file] = sum(scores) / len(scores)
    assert all(rate <= 0.04 for rate in rates.values()), rates
    assert all(mean < 0.03 for mean in means.values()), means


def test_raw_benchmark_questions_rarely_hit() -> None:
    """A sweep of bare tasks (no product ask) is no product harvest: 0 of the 300 shipped
    gsm8k prompts hit (the whole file: 5 of 8,792)."""
    prompts = [p.text for p in load_prompts(files=["harvest_gsm8k.jsonl"], full=False)]
    assert sum(bool(_lexicon().score(t).terms) for t in prompts) <= 3


def test_ids_are_short_identifiers_and_kinds_are_known() -> None:
    assert {t.kind for t in PRODUCT_TERMS} == {"synth", "soft", "program", "critique"}
    assert len({t.id for t in PRODUCT_TERMS}) == len(PRODUCT_TERMS)
    got = _lexicon().score(ASKS[0][1])
    assert all(len(i) < 32 and " " not in i for i in got.terms)


def test_the_fingerprint_scores_products_apart_from_the_cot_lexicon() -> None:
    fp = Fingerprinter()
    body = {"messages": [{"role": "user", "content": ASKS[0][1]}]}
    got = fp.fingerprint(body, "chat")
    assert got.product >= 0.5
    assert got.elicitation == 0.0 and got.elicitation_terms == ()
    cot = fp.fingerprint({"messages": [{"role": "user", "content": ORDINARY[5]}]}, "chat")
    assert cot.product == 0.0 and cot.elicitation > 0
    # in the system prompt (a ticket router's fixed instructions): not the user's ask
    system = {
        "messages": [
            {"role": "system", "content": "Reply with the 3 most likely labels and a "
             "probability for each."},
            {"role": "user", "content": "My parcel never arrived."},
        ]
    }  # fmt: skip
    assert fp.fingerprint(system, "chat").product == 0.0
    # an assistant prefill after the user turn is the requester's words
    prefill = {
        "messages": [
            {"role": "user", "content": TASK},
            {"role": "assistant", "content": "Here are 5 new problems of this kind, each with "
             "its full solution:"},
        ]
    }  # fmt: skip
    assert fp.fingerprint(prefill, "chat").product > 0


def test_the_product_lexicon_reads_only_the_head_and_tail_of_a_long_text() -> None:
    """Built with ``whole_text=False``: an ask that opens or closes the text is read; one in
    the middle of a long text, or behind a hundred occurrences of its anchors, is not read
    in full (the cost stays bounded)."""
    lexicon = Fingerprinter().products
    ask = "Generate 10 similar word problems and give the answer to each."
    filler = "The committee met on Monday to discuss the budget for the coming year. " * 40
    assert lexicon.score(f"{filler}\n\n{ask}").terms
    assert lexicon.score(f"{ask}\n\n{filler}").terms
    assert not lexicon.score(f"{filler}\n\n{ask}\n\n{filler}").terms
    noisy = "Write the code and make it work. " * 100
    assert lexicon.score(f"{noisy}\n{ask}").terms  # the last anchors are read
