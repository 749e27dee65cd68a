"""A term's ``needs`` (substrings every match of its pattern contains) only save searches: a
window or text holding none of them is not searched, and the lexicon's answers stay those
of the same terms without ``needs`` (issue 13: the product lexicon's fixed cost)."""

from __future__ import annotations

import dataclasses
import functools

import pytest

from gateway.fingerprints.lexicon import Lexicon, _fold
from gateway.fingerprints.lexicon_terms import TERMS
from gateway.fingerprints.product_terms import PRODUCT_TERMS, PRODUCT_WINDOW
from gateway.fingerprints.term import Term
from loadtest.corpus import load_prompts

NEEDY = [t for t in PRODUCT_TERMS + TERMS if t.needs]


ASKS = (  # one ask for each term with needs, in a window of its anchor
    "Generate 10 similar word problems and give the answer to each.",
    "Translate the problem into Python code and print the result.",
    "Write a Python function solve() that returns the answer.",
    "Label each step as correct or incorrect.",
    "Rank the candidate answers and assign a probability to each.",
    "Write 3 new Python functions, then label the first step: ok.",  # anchors, no match
)


@functools.cache
def _texts() -> tuple[str, ...]:
    return (*(p.text for p in load_prompts()), *ASKS)


def _products(terms: tuple[Term, ...]) -> Lexicon:
    return Lexicon(terms, whole_text=False, window=PRODUCT_WINDOW)


def test_some_product_terms_have_needs_in_casefolded_form_without_whitespace() -> None:
    assert {t.id for t in NEEDY} >= {"en.generate_items", "en.program_answer"}
    for term in NEEDY:
        assert all(n and n == n.casefold() and not any(c.isspace() for c in n) for n in term.needs)


@pytest.mark.parametrize("term", NEEDY, ids=lambda t: t.id)
def test_every_match_on_the_bundled_prompts_holds_one_of_its_needs(term: Term) -> None:
    pattern = Lexicon((term,))._patterns[0]
    matches = 0
    for text in _texts():
        for match in pattern.finditer(_fold(text)):
            matches += 1
            assert any(n in match.group(0) for n in term.needs), (term.id, match.group(0))
    assert term.id not in {"en.generate_items", "en.program_answer"} or matches > 0


def test_the_product_lexicon_answers_as_without_needs() -> None:
    plain = _products(tuple(dataclasses.replace(t, needs=()) for t in PRODUCT_TERMS))
    needy = _products(PRODUCT_TERMS)
    hits = 0
    for text in _texts():
        got = needy.score(text)
        assert got == plain.score(text), text[:200]
        hits += bool(got.terms)
    assert hits >= len(ASKS) - 1


def test_a_window_without_any_need_is_not_searched() -> None:
    text = "Please write 3 new exercises for my class."
    term = next(t for t in PRODUCT_TERMS if t.id == "en.generate_items")
    assert _products((term,)).score(text).terms == ("en.generate_items",)
    # needs the match does not hold: the search is skipped, so no hit (the check is live)
    wrong = dataclasses.replace(term, needs=("zebra",))
    assert _products((wrong,)).score(text).terms == ()
    # the whole-text path (more anchors than windows) checks them too
    long = " ".join(["write"] * 10) + " " + text
    assert _products((term,)).score(long).terms == ("en.generate_items",)
    assert Lexicon((wrong,)).score(long).terms == ()
