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
from typing import Any

import numpy as np

from gateway.fingerprints import chars as C
from gateway.fingerprints.compiled import compiled
from gateway.fingerprints.hashing import U64, fmix64
from gateway.fingerprints.normalize import cap, nfkc
from gateway.fingerprints.tokens import Ints, Spans, Tokens, tokenize

KINDS = ("code", "icode", "url", "email", "quote", "num", "name", "long")
CODE, ICODE, URL, EMAIL, QUOTE, NUM, NAME, LONG = range(len(KINDS))
LONG_TOKEN = 24  # characters; longer tokens are identifiers, hashes, base64
_EMAIL_WINDOW = 64

_PREMASK: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("```", re.compile(r"```.*?(?:```|\Z)", re.S), CODE),
    ("`", re.compile(r"`[^`\n]{1,200}`"), ICODE),
    ('"', re.compile(r'"[^"\n]{1,400}"'), QUOTE),
    ("“", re.compile(r"“[^”\n]{1,400}”"), QUOTE),
    ("«", re.compile(r"«[^»\n]{1,200}»"), QUOTE),
    ("„", re.compile(r"„[^“”\n]{1,200}[“”]"), QUOTE),
    ("「", re.compile(r"「[^」\n]{1,200}」"), QUOTE),
    ("『", re.compile(r"『[^』\n]{1,200}』"), QUOTE),
    ("'", re.compile(r"'(?<![\w']')[^'\n]{1,200}'(?![\w'])"), QUOTE),
)
_WWW = re.compile(r"\bwww\.\S+", re.I)
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


def _www(text: str) -> list[tuple[int, int, int]]:
    """``www.`` URLs (any case). An ASCII text is searched from each "www." of its lower case
    (same positions), which is much faster than a case-insensitive regex scan."""
    if not text.isascii():
        return [(*m.span(), URL) for m in _WWW.finditer(text)]
    lower = text.lower()
    found: list[tuple[int, int, int]] = []
    end = 0
    at = lower.find("www.")
    while at >= 0:
        if at >= end:
            m = _WWW.match(text, at)
            if m:
                found.append((at, m.end(), URL))
                end = m.end()
        at = lower.find("www.", at + 1)
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
            found += [(*m.span(), kind) for m in pattern.finditer(text)]
    if "www." in text:
        found += _www(text)
    if "@" in text:
        found += _emails(text)
    if "://" in text:
        found += _urls(text)
    if not found:
        return None
    found.sort()
    kept = [found[0]]
    end = found[0][1]
    for span in found:
        if span[0] >= end:
            kept.append(span)
            end = span[1]
    return kept


@dataclass(frozen=True, slots=True)
class Skeleton:
    """The masked token sequence of one text (capped to head and tail tokens)."""

    tokens: Tokens  # all tokens of the text
    index: Ints  # source token of each skeleton entry
    kinds: Ints  # -1 (kept word) or the mask kind of each entry
    hashes: U64  # entry hashes: the word's hash, or a constant per mask kind
    token_index: Ints  # the capped tokens before runs of a mask collapsed
    token_kinds: Ints  # their kinds (what the topic embedding reads)
    segments: Ints  # the segment of each entry (never decreasing)

    def __len__(self) -> int:
        return len(self.index)


# ASCII; other BMP text; text whose lower case is longer (İ); beyond the BMP; a literal;
# a compatibility character (builds nfkc's table now)
_WARM_UP = ("a", "é", "İ", "😀", "'a b' x", "ﬁ")


@compiled()
def _entries(
    starts: Any,
    ends: Any,
    hashes: Any,
    digits: Any,
    titlecase: Any,
    initial: Any,
    masked: Any,
    segment: Any,
    max_words: int,
    mask_hashes: Any,
) -> Any:  # pragma: no cover - compiled
    """One compiled pass over the capped tokens: each one's kind (priority: pre-masked
    literal, number, long token, name), then runs of one mask kind collapsed to one entry
    whose hash is the kind's. Returns (index, kinds, hashes, token_index, token_kinds,
    segments) as :class:`Skeleton` holds them."""
    n = len(starts)
    tail = max_words // 4
    capped = n > max_words
    m = max_words if capped else n
    token_index = np.empty(m, dtype=np.intp)
    token_kinds = np.empty(m, dtype=np.intp)
    index = np.empty(m, dtype=np.intp)
    kinds = np.empty(m, dtype=np.intp)
    out = np.empty(m, dtype=np.uint64)
    segments = np.empty(m, dtype=np.intp)
    count = 0
    previous = -1
    for j in range(m):
        i = n - m + j if capped and j >= max_words - tail else j  # head, then tail
        kind = masked[i]
        if kind < 0:
            if digits[i]:
                kind = NUM
            elif ends[i] - starts[i] > LONG_TOKEN:
                kind = LONG
            elif titlecase[i] and not initial[i]:
                kind = NAME
        token_index[j] = i
        token_kinds[j] = kind
        if j == 0 or kind < 0 or kind != previous:
            index[count] = i
            kinds[count] = kind
            out[count] = hashes[i] if kind < 0 else mask_hashes[kind]
            segments[count] = segment[i]
            count += 1
        previous = kind
    return index[:count], kinds[:count], out[:count], token_index, token_kinds, segments[:count]


class Skeletonizer:
    """Text -> :class:`Skeleton`, with bounded work (``max_chars``, ``max_words``)."""

    def __init__(self, max_words: int = 512, max_chars: int | None = None) -> None:
        self.max_words = max_words
        self.max_chars = max_chars if max_chars is not None else max_words * 12
        self.tables = C.char_tables()
        kinds = np.arange(len(KINDS), dtype=np.uint64) + np.uint64(0x5E1E7017)
        self._mask_hashes = fmix64(fmix64(kinds))
        self._mask_hashes.flags.writeable = False
        for text in _WARM_UP:  # compile the passes for every kind of text now, not mid-request
            self.skeleton(text)

    def tokenize(self, text: str, *, exact: bool = True) -> Tokens:
        """NFKC-normalise and cap ``text``, find its literals, tokenise it (``exact``: also
        the exact hash, else 0)."""
        prepared = self.prepare(text)
        return self.tokenize_prepared(prepared, premask_spans(prepared), exact=exact)

    def prepare(self, text: str) -> str:
        """The text that is tokenised: NFKC, capped to ``max_chars``."""
        return nfkc(cap(text, self.max_chars))[: self.max_chars]

    def tokenize_prepared(
        self, prepared: str, spans: Spans | None, *, exact: bool = True
    ) -> Tokens:
        """Tokenise a prepared text, given its literal spans (``premask_spans``)."""
        return tokenize(prepared, self.tables, spans, exact=exact)

    def skeleton(self, text: str) -> Skeleton:
        return self.from_tokens(self.tokenize(text))

    def from_tokens(self, tokens: Tokens) -> Skeleton:
        t = tokens
        index, kinds, hashes, token_index, token_kinds, segments = _entries(
            t.starts, t.ends, t.hashes, t.has_digit, t.titlecase, t.sentence_initial,
            t.mask_kind, t.segment, self.max_words, self._mask_hashes,
        )  # fmt: skip
        return Skeleton(tokens, index, kinds, hashes, token_index, token_kinds, segments)

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
