"""Elicitation evidence: chain-of-thought / reasoning-trace requests and rubric grading.

``elicitation_score(text) -> (score, term_ids)``. The score combines the weights of the
distinct matched terms as independent evidence, ``1 - prod(1 - w)``; term ids are short
identifiers such as ``"en.step_by_step"`` (never prompt text).

Cost is bounded: a bitmap over token hashes finds the anchor words of the terms (one
vectorised lookup); a term's regex then runs only on a normalised window around each of its
anchors (on the whole text when an anchor occurs more than ``MAX_WINDOWS`` times), and not
at all on a window or text that holds none of the term's ``needs`` (substrings every match
contains, so the result is the same: only the search is saved). A lexicon
built with ``whole_text=False`` reads only anchors within ``EDGE`` characters of the text's
start or end (an instruction opens or closes a prompt), at most the first and last
``MAX_WINDOWS // 2`` of them, never the whole text: its cost stays bounded whatever the
text's length, for terms whose anchors are common words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.fingerprints.compiled import compiled
from gateway.fingerprints.hashing import U64
from gateway.fingerprints.lexicon_terms import TERMS
from gateway.fingerprints.skeleton import Skeletonizer
from gateway.fingerprints.term import Term
from gateway.fingerprints.tokens import Tokens

MAX_TERMS = 8  # ids reported per prompt
MAX_WINDOWS = 6  # per term; beyond, the whole text is searched
WINDOW = 120  # characters each side of an anchor
EDGE = 400  # whole_text=False: anchors this close to the text's start or end are read
_BITS = 16  # the bitmap is indexed by the low 16 bits of a token hash
_LOW = np.uint64((1 << _BITS) - 1)


@dataclass(frozen=True, slots=True)
class Elicitation:
    score: float
    terms: tuple[str, ...]
    anchor: int = -1  # index of a token of a matched phrase (-1: none, or a literal term)


_NONE = Elicitation(0.0, ())


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _needed(text: str, needs: tuple[str, ...]) -> bool:
    """Whether a casefolded text holds one of a term's ``needs`` (no needs: yes). The needs
    hold no whitespace, so the raw window's casefold holds one exactly when its fold does."""
    return not needs or any(n in text for n in needs)


def _window(tokens: Tokens, token: int, width: int = WINDOW) -> slice:
    """The characters within ``width`` of one token."""
    return slice(max(int(tokens.starts[token]) - width, 0), int(tokens.ends[token]) + width)


@compiled()
def bitmap_hits(hashes: Any, bitmap: Any) -> Any:  # pragma: no cover - compiled
    """Indices of the tokens whose hash's low 16 bits are set in ``bitmap`` (in order)."""
    out = np.empty(len(hashes), dtype=np.intp)
    count = 0
    for i in range(len(hashes)):
        if bitmap[np.intp(hashes[i] & _LOW)]:
            out[count] = i
            count += 1
    return out[:count]


def bitmap_of(hashes: Iterable[int]) -> Any:
    """The read-only bitmap of these token hashes' low 16 bits (for :func:`bitmap_hits`)."""
    bitmap = np.zeros(1 << _BITS, dtype=np.bool_)
    keys = np.array(sorted(hashes), dtype=np.uint64)
    bitmap[(keys & _LOW).astype(np.intp)] = True
    bitmap.flags.writeable = False
    return bitmap


class Lexicon:
    """Compiled terms, indexed by the hashes of their anchor words."""

    def __init__(
        self,
        terms: tuple[Term, ...] = TERMS,
        skeletonizer: Skeletonizer | None = None,
        *,
        whole_text: bool = True,
        window: int = WINDOW,
    ) -> None:
        self.skeletonizer = skeletonizer or Skeletonizer()
        self.terms = terms
        self.whole_text = whole_text
        self.window = window
        self._patterns = tuple(re.compile(t.pattern) for t in terms)
        self._needs = tuple(t.needs for t in terms)
        self._weights = {t.id: t.weight for t in terms}
        owners: dict[int, list[int]] = {}
        for i, term in enumerate(terms):
            for h in self.skeletonizer.tokenize(" ".join(term.anchors)).hashes.tolist():
                owners.setdefault(h, []).append(i)
        self._owners = {h: tuple(v) for h, v in owners.items()}
        self._bitmap = bitmap_of(owners)
        self._literals = tuple((i, t.literal) for i, t in enumerate(terms) if t.literal)
        self.score("a")  # compile the anchor search now, not mid-request

    def _anchored(self, hashes: U64) -> dict[int, list[int]]:
        """term index -> token indices of its anchors in the text."""
        maybe = bitmap_hits(hashes, self._bitmap)
        found: dict[int, list[int]] = {}
        for tok, h in zip(maybe.tolist(), hashes[maybe].tolist(), strict=True):
            for term in self._owners.get(h, ()):
                found.setdefault(term, []).append(tok)
        return found

    def _anchored_hits(self, tokens: Tokens, folded: list[str]) -> Iterator[tuple[int, int]]:
        """(term index, token of its matched phrase) of each anchored term that matches, in
        the order of their anchors' first tokens; ``folded`` caches the whole folded text."""
        text = tokens.text
        for term, toks in self._anchored(tokens.hashes).items():
            pattern, needs = self._patterns[term], self._needs[term]
            if not self.whole_text:  # an ask opens or closes the text
                toks = self._edges(tokens, toks)
            if len(toks) > MAX_WINDOWS:
                if not folded:
                    folded.append(_fold(text))
                whole = folded[0]
                found = toks[0] if _needed(whole, needs) and pattern.search(whole) else -1
            else:
                found = self._first_match(tokens, toks, pattern, needs)
            if found >= 0:
                yield term, found

    def _first_match(
        self, tokens: Tokens, toks: list[int], pattern: re.Pattern[str], needs: tuple[str, ...]
    ) -> int:
        """The first of these anchors whose window the pattern matches (-1: none); a window
        holding none of ``needs`` is neither folded nor searched."""
        text = tokens.text
        for t in toks:
            window = text[_window(tokens, t, self.window)]
            if needs and not _needed(window.casefold(), needs):
                continue
            if pattern.search(_fold(window)):
                return t
        return -1

    @staticmethod
    def _edges(tokens: Tokens, toks: list[int]) -> list[int]:
        """The anchors within ``EDGE`` characters of the text's start or end, at most the
        first and last ``MAX_WINDOWS // 2`` of them."""
        end = len(tokens.text) - EDGE
        near = [t for t in toks if tokens.starts[t] < EDGE or tokens.ends[t] > end]
        half = MAX_WINDOWS // 2
        return near if len(near) <= MAX_WINDOWS else near[:half] + near[-half:]

    def anchor(self, tokens: Tokens) -> int:
        """:meth:`match_tokens`' ``anchor`` alone (the first anchored term's match; -1:
        none), without matching the terms after it or the literal terms."""
        return next((found for _, found in self._anchored_hits(tokens, [])), -1)

    def match_tokens(self, tokens: Tokens) -> Elicitation:
        """Score a tokenised text (the fingerprinter's fast path)."""
        text = tokens.text
        folded: list[str] = []
        hits: list[int] = []
        anchor = -1
        for term, found in self._anchored_hits(tokens, folded):
            hits.append(term)
            anchor = found if anchor < 0 else anchor
        for term, literal in self._literals:
            if literal in text:
                if not folded:
                    folded.append(_fold(text))
                if self._patterns[term].search(folded[0]):
                    hits.append(term)
        if not hits:
            return _NONE
        result = self.combine(self.terms[i].id for i in hits)
        return Elicitation(result.score, result.terms, anchor)

    def score(self, text: str) -> Elicitation:
        return self.match_tokens(self.skeletonizer.tokenize(text))

    def combine(self, ids: Iterable[str]) -> Elicitation:
        """Score a set of term ids: ``1 - prod(1 - weight)``; keep the strongest ids."""
        unique = sorted(set(ids))
        if not unique:
            return Elicitation(0.0, ())
        miss = 1.0
        for term_id in unique:
            miss *= 1.0 - self._weights.get(term_id, 0.0)
        if len(unique) > MAX_TERMS:
            unique = sorted(sorted(unique, key=lambda t: -self._weights.get(t, 0.0))[:MAX_TERMS])
        return Elicitation(round(1.0 - miss, 4), tuple(unique))


@functools.cache
def default_lexicon() -> Lexicon:
    """The shared, immutable default lexicon (built on first use)."""
    return Lexicon()


def elicitation_score(text: str) -> tuple[float, tuple[str, ...]]:
    """(score in [0, 1], matched term ids) for one text."""
    result = default_lexicon().score(text)
    return result.score, result.terms
