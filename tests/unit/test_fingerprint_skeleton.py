"""Skeleton masking: literals are masked, template words are kept."""

from __future__ import annotations

import pytest

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.simhash import hamming
from gateway.fingerprints.skeleton import Skeletonizer
from loadtest.corpus import load_prompts


@pytest.fixture(scope="module")
def sk() -> Skeletonizer:
    return Skeletonizer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Janet has 3 apples and 1,250.5 pears", "janet has <num> apples and <num> pears"),
        ("Solve step by step: Janet has 3 apples", "solve step by step <name> has <num> apples"),
        ("I met Tom and Mary yesterday.", "i met <name> and <name> yesterday"),
        ('Translate "the cat sat on the mat" now', "translate <quote> now"),
        ("Translate “le chat” and «el gato» please", "translate <quote> and <quote> please"),
        ("Explain 'foo bar' but don't stop", "explain <quote> but don t stop"),
        ("Run `pip install x` first", "run <icode> first"),
        ("Fix:\n```python\nx = 1\nprint(x)\n```\nthanks", "fix <code> thanks"),
        ("See https://example.com/a?b=1, or www.foo.org", "see <url> or <url>"),
        ("Mail alice.b@example.co.uk today", "mail <email> today"),
        (
            "Hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ok",
            "hash <num> ok",
        ),
        ("Token abcdefghijklmnopqrstuvwxyzabcdef end", "token <long> end"),
        ("NASA and the USA", "nasa and the usa"),
        ("请一步一步地思考", "请 一 步 一 步 地 思 考"),
    ],
)
def test_masking(sk: Skeletonizer, text: str, expected: str) -> None:
    assert sk.text(text) == expected


def test_one_template_shares_more_skeleton_than_unrelated_prompts() -> None:
    fp = Fingerprinter()
    a = fp.fingerprint_text("Solve step by step: Janet has 3 apples and buys 5 more. How many?")
    b = fp.fingerprint_text("Solve step by step: Tom has 7 apples and buys 2 more. How many?")
    c = fp.fingerprint_text("Write a haiku about autumn leaves falling in a quiet park.")
    assert a.skeleton == b.skeleton  # numbers and names masked: the same skeleton
    assert a.exact != b.exact
    assert hamming(a.simhash, b.simhash) < hamming(a.simhash, c.simhash)
    d = fp.fingerprint_text("Solve step by step: Tom has 7 pears and buys 2 more. How many?")
    assert d.skeleton != a.skeleton and hamming(a.simhash, d.simhash) <= 16


def test_exact_ignores_case_whitespace_and_compatibility_forms() -> None:
    fp = Fingerprinter()
    base = fp.fingerprint_text("Hello World,  how are you?")
    assert fp.fingerprint_text("hello   world, how are you?\n").exact == base.exact
    assert fp.fingerprint_text("Ｈｅｌｌｏ World, how are you?").exact == base.exact  # NFKC
    assert fp.fingerprint_text("Hello World, how are we?").exact != base.exact
    assert fp.fingerprint_text("").exact == 0 and fp.fingerprint_text(" \n ").exact == 0


def test_skeleton_work_is_capped_on_huge_prompts(sk: Skeletonizer) -> None:
    text = " ".join(p.text for p in load_prompts(full=False)[:400])
    skeleton = sk.skeleton(text)
    assert len(skeleton) <= sk.max_words
    assert len(skeleton.tokens.text) <= sk.max_chars
