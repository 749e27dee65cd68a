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

from gateway.fingerprints import chars as C
from gateway.fingerprints.hashing import U64, PrefixHasher, fmix64
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


class Skeletonizer:
    """Text -> :class:`Skeleton`, with bounded work (``max_chars``, ``max_words``)."""

    def __init__(self, max_words: int = 512, max_chars: int | None = None) -> None:
        self.max_words = max_words
        self.max_chars = max_chars if max_chars is not None else max_words * 12
        self.hasher = PrefixHasher(self.max_chars + 16)
        self._tables = C.char_tables()
        kinds = np.arange(len(KINDS), dtype=np.uint64) + np.uint64(0x5E1E7017)
        self._mask_hashes = fmix64(fmix64(kinds))
        self._index = np.arange(max_words, dtype=np.intp)
        self._head = self._index[: max_words - max_words // 4]
        for arr in (self._mask_hashes, self._index):
            arr.flags.writeable = False

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
        return tokenize(prepared, self.hasher, self._tables, spans, exact=exact)

    def skeleton(self, text: str) -> Skeleton:
        return self.from_tokens(self.tokenize(text))

    def from_tokens(self, tokens: Tokens) -> Skeleton:
        n = len(tokens)
        if n > self.max_words:
            tail = self.max_words // 4
            index = np.concatenate((self._head, np.arange(n - tail, n, dtype=np.intp)))
            long = (tokens.ends[index] - tokens.starts[index]) > LONG_TOKEN
            names = tokens.titlecase[index] & ~tokens.sentence_initial[index]
            digits, masked = tokens.has_digit[index], tokens.mask_kind[index]
            hashes, segments = tokens.hashes[index], tokens.segment[index]
        else:
            index = self._index[:n]
            long = (tokens.ends - tokens.starts) > LONG_TOKEN
            names = tokens.titlecase & ~tokens.sentence_initial
            digits, masked = tokens.has_digit, tokens.mask_kind
            hashes, segments = tokens.hashes, tokens.segment
        # priority: pre-masked literal, number, long token, name
        kinds = np.where(names, NAME, masked)
        kinds[long] = LONG
        kinds[digits] = NUM
        if tokens.literals:
            kinds = np.where(masked >= 0, masked, kinds)
        token_kinds = kinds
        token_index = index
        if n > 1:
            keep = np.empty(len(kinds), dtype=np.bool_)  # runs of one mask kind collapse
            keep[0] = True
            np.not_equal(kinds[1:], kinds[:-1], out=keep[1:])
            keep[1:] |= kinds[1:] < 0
            if not keep.all():
                index, kinds, hashes, segments = (
                    index[keep],
                    kinds[keep],
                    hashes[keep],
                    segments[keep],
                )
        masks = kinds >= 0
        if masks.any():
            hashes = np.where(masks, self._mask_hashes[kinds], hashes)
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
