"""The fast NFKC (compatibility characters replaced one by one, then checked) is exactly
``unicodedata.normalize("NFKC", ...)`` on corpus prompts, edge cases and random text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fingerprints.normalize import nfkc
from loadtest.corpus import load_prompts

EDGE = [
    "",
    "plain ascii",
    "中文，标点：（全角）？；",
    "ﬁne ﬂow ＡＢＣ１２３ ℎ𝜎𝑣 ㍱ ① \u00a0nbsp",
    "e\u0301 ，\u0301 Ａ\u0308 ｶﾞ ｶ\u3099",  # combining marks after replaced characters
    "\u1100\u1161\u11a8 \uff21\u0327\u0301",  # conjoining jamo; full-width A with marks
    "Ω K Å ﬀi \u2126\u212a\u212b",  # singletons (canonical) among compatibility characters
    "\ud800 lone surrogate ，",
]

# mostly characters that normalisation changes or reorders, among ordinary letters
MARKS = ["\u0301", "\u0308", "\u0327", "\u3099", "\uff76", "\uff9e", "\u1100", "\u1161"]
OTHERS = ["\u11a8", "\u212b", "\U0001d70e", "\u2460", "\u3371", "\u00a0"]
ALPHABET = st.sampled_from([*"aeAZ中文 ，：（）？；ﬁﬂＡ１", *MARKS, *OTHERS])


def test_fast_nfkc_equals_unicodedata_on_corpus_and_edges() -> None:
    texts = [p.text for p in load_prompts(full=False)] + EDGE
    assert any(not unicodedata.is_normalized("NFKC", t) for t in texts)
    for text in texts:
        assert nfkc(text) == unicodedata.normalize("NFKC", text), text[:40]


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join) | st.text(max_size=40))
def test_fast_nfkc_equals_unicodedata_on_random_text(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
