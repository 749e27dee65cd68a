"""Skeletons: the prompt with its literals masked, so prompts from one template look alike.

Two stages, both cheap:

1. Pre-masking (regexes, each run only when its trigger is present) finds literals that span
   many tokens: fenced code blocks, inline code, URLs, e-mail addresses and quoted strings
   ("...", “...”, «...», „...“, 「...」, '...'). All their tokens become one mask token.
2. Token masks (vectorised): any token holding a digit (numbers, amounts, dates, ids),
   Titlecase words that do not start a sentence (names: "Solve: Janet has ..." masks Janet),
   and very long tokens (hashes, base64). Runs of one mask kind collapse to one.

"Solve step by step: Janet has 3 apples" and "Solve step by step: Tom has 7 pears" then
differ only in "apples"/"pears". Words are lower-cased after the name test (case is evidence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gateway.diversity import chars as C
from gateway.diversity.hashing import U64, PrefixHasher, fmix64
from gateway.diversity.normalize import cap, nfkc
from gateway.diversity.tokens import Ints, Spans, Tokens, tokenize

KINDS = ("code", "icode", "url", "email", "quote", "num", "name", "long")
CODE, ICODE, URL, EMAIL, QUOTE, NUM, NAME, LONG = range(len(KINDS))
LONG_TOKEN = 24  # characters; longer tokens are identifiers, hashes, base64
_EMAIL_WINDOW = 64

_PREMASK: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("```", re.compile(r"```.*?(?:```|\Z)", re.S), CODE),
    ("`", re.compile(r"`[^`\n]{1,200}`"), ICODE),
    ("www.", re.compile(r"\bwww\.\S+", re.I), URL),
    ('"', re.compile(r'"[^"\n]{1,400}"'), QUOTE),
    ("“", re.compile(r"“[^”\n]{1,400}”"), QUOTE),
    ("«", re.compile(r"«[^»\n]{1,200}»"), QUOTE),
    ("„", re.compile(r"„[^“”\n]{1,200}[“”]"), QUOTE),
    ("「", re.compile(r"「[^」\n]{1,200}」"), QUOTE),
    ("『", re.compile(r"『[^』\n]{1,200}』"), QUOTE),
    ("'", re.compile(r"'(?<![\w']')[^'\n]{1,200}'(?![\w'])"), QUOTE),
)
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]{0,15}\Z")
_URL_REST = re.compile(r"\S+")


def _urls(text: str) -> list[tuple[int, int, int]]:
    """``scheme://...`` URLs, found from each "://" (a regex scan of the text is slow)."""
    found: list[tuple[int, int, int]] = []
    sep = text.find("://")
    while sep >= 0:
        scheme = _SCHEME.search(text, max(sep - 16, 0), sep)
        rest = _URL_REST.match(text, sep + 3)
        if scheme and rest:
            found.append((scheme.start(), rest.end(), URL))
        sep = text.find("://", rest.end() if rest else sep + 3)
    return found


def _emails(text: str) -> list[tuple[int, int, int]]:
    """E-mail addresses, searched only around each "@" (a full scan is slow)."""
    found: list[tuple[int, int, int]] = []
    at = text.find("@")
    while at >= 0:
        base = max(at - _EMAIL_WINDOW, 0)
        for m in _EMAIL.finditer(text, base, at + _EMAIL_WINDOW * 2):
            if m.start() <= at < m.end():
                found.append((m.start(), m.end(), EMAIL))
                break
        at = text.find("@", at + 1)
    return found


def premask_spans(text: str) -> Spans | None:
    """Sorted, non-overlapping literal spans (start, end, kind), or None when there are none."""
    found: list[tuple[int, int, int]] = []
    for trigger, pattern, kind in _PREMASK:
        if trigger in text:
            found.extend((m.start(), m.end(), kind) for m in pattern.finditer(text))
    if "@" in text:
        found.extend(_emails(text))
    if "://" in text:
        found.extend(_urls(text))
    if not found:
        return None
    found.sort()
    kept: list[tuple[int, int, int]] = []
    for span in found:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    arr = np.array(kept, dtype=np.intp)
    return arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy()


@dataclass(frozen=True, slots=True)
class Skeleton:
    """The masked token sequence of one text (capped to head and tail tokens)."""

    tokens: Tokens  # all tokens of the text
    index: Ints  # source token of each skeleton entry
    kinds: Ints  # -1 (kept word) or the mask kind of each entry
    hashes: U64  # entry hashes: the word's hash, or a constant per mask kind
    token_index: Ints  # the capped tokens before runs of a mask collapsed
    token_kinds: Ints  # their kinds (what the topic embedding reads)

    def __len__(self) -> int:
        return len(self.index)


class Skeletonizer:
    """Text -> :class:`Skeleton`, with bounded work (``max_chars``, ``max_words``)."""

    def __init__(self, max_words: int = 512, max_chars: int | None = None) -> None:
        self.max_words = max_words
        self.max_chars = max_chars if max_chars is not None else max_words * 12
        self.hasher = PrefixHasher(self.max_chars + 16)
        self._tables = C.char_tables()
        kinds = np.arange(len(KINDS), dtype=np.uint64) + np.uint64(0x5E1E7017)
        self._mask_hashes = fmix64(fmix64(kinds))

    def tokenize(self, text: str) -> Tokens:
        """NFKC-normalise and cap ``text``, find its literals, tokenise it."""
        prepared = nfkc(cap(text, self.max_chars))[: self.max_chars]
        return tokenize(prepared, self.hasher, self._tables, premask_spans(prepared))

    def skeleton(self, text: str) -> Skeleton:
        return self.from_tokens(self.tokenize(text))

    def from_tokens(self, tokens: Tokens) -> Skeleton:
        n = len(tokens)
        if n > self.max_words:
            tail = self.max_words // 4
            head = np.arange(self.max_words - tail, dtype=np.intp)
            index = np.concatenate((head, np.arange(n - tail, n, dtype=np.intp)))
            pick = index
        else:
            index = np.arange(n, dtype=np.intp)
            pick = slice(None)  # type: ignore[assignment]
        lengths = tokens.ends[pick] - tokens.starts[pick]
        names = tokens.titlecase[pick] & ~tokens.sentence_initial[pick]
        kinds = np.where(names, NAME, -1)
        kinds[lengths > LONG_TOKEN] = LONG
        kinds[tokens.has_digit[pick]] = NUM
        masked = tokens.mask_kind[pick]
        token_index = index
        token_kinds = kinds = np.where(masked >= 0, masked, kinds)
        if len(kinds) > 1:
            repeat = (kinds[1:] >= 0) & (kinds[1:] == kinds[:-1])
            if repeat.any():
                keep = np.concatenate(([True], ~repeat))
                index, kinds = index[keep], kinds[keep]
        hashes = np.where(kinds >= 0, self._mask_hashes[kinds], tokens.hashes[index])
        return Skeleton(tokens, index, kinds, hashes, token_index, token_kinds)

    def text(self, text: str) -> str:
        """The skeleton as readable text (tests and explanations; never logged)."""
        sk = self.skeleton(text)
        toks = sk.tokens
        words = []
        for i, kind in zip(sk.index.tolist(), sk.kinds.tolist(), strict=True):
            if kind >= 0:
                words.append(f"<{KINDS[kind]}>")
            else:
                words.append(toks.text[toks.starts[i] : toks.ends[i]].lower())
        return " ".join(words)
