"""Token counting and deterministic completion text for the mock upstream.

**The one token rule** (:func:`count_tokens`): text is cut into pieces by the regular
expression ``\\w+|[^\\w\\s]`` (runs of word characters, and every other non-space character on
its own); a run of word characters counts one token per started 5 characters, every other
piece counts one. ``"Hello, world!"`` is 4 tokens, ``"distillation"`` is 3. English comes out at
about 1.2-1.4 tokens per word, close to OpenAI's tokenizers, and counting is one regex pass.

Completions are made of words of at most 5 letters (one token each) and full stops, so a
completion of *n* tokens counts exactly *n* by the same rule.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_PIECES = re.compile(r"\w+|[^\w\s]")
_WORD_TOKEN_CHARS = 5
_MESSAGE_OVERHEAD = 3  # tokens per chat message (role and separators), as OpenAI counts them
_REPLY_PRIMING = 3  # tokens that prime the assistant's reply
_IMAGE_TOKENS = 85  # a low-detail image part
_SENTENCE_WORDS = 11  # a full stop after this many words

_WORDS = """the of and to in is that for it as with was on be by this are from at or an
    which one all were when there can more if has been will their some would what so
    time like than into only other new these two may first then any most such also made
    after many must where well much over way even back here both each model data layer
    value state input noise graph query token cache proof field range scale light sound
    water earth plant cell river stone metal wave force speed angle point line curve
    north south city house road train story song paper table chair clock music"""
VOCABULARY: tuple[str, ...] = tuple(_WORDS.split())
assert all(len(word) <= _WORD_TOKEN_CHARS for word in VOCABULARY)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by the one token rule (see the module docstring)."""
    return sum(
        (len(piece) + _WORD_TOKEN_CHARS - 1) // _WORD_TOKEN_CHARS for piece in _PIECES.findall(text)
    )


def _content_text(content: Any) -> tuple[str, int]:
    """Text of a message's content, and extra tokens for non-text parts (images)."""
    if isinstance(content, str):
        return content, 0
    if isinstance(content, list):
        texts: list[str] = []
        extra = 0
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                extra += _IMAGE_TOKENS
        return "\n".join(texts), extra
    return "", 0


def chat_prompt(messages: Iterable[Any]) -> tuple[str, int]:
    """The text of a chat request's messages and its prompt tokens.

    Each message costs 3 tokens plus its content (and name); the reply costs 3 to prime.
    """
    texts: list[str] = []
    tokens = _REPLY_PRIMING
    for message in messages:
        tokens += _MESSAGE_OVERHEAD
        if not isinstance(message, dict):
            continue
        text, extra = _content_text(message.get("content"))
        name = message.get("name")
        if isinstance(name, str):
            text = f"{name}: {text}"
        texts.append(text)
        tokens += count_tokens(text) + extra
    return "\n".join(texts), tokens


def prompt_seed(text: str, seed: int) -> int:
    """A 64-bit number derived from the prompt and the mock's seed."""
    digest = hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"),
        digest_size=8,
        key=seed.to_bytes(8, "little", signed=True),
    ).digest()
    return int.from_bytes(digest, "little")


@dataclass(frozen=True, slots=True)
class Generated:
    """A completion: its pieces (one token each; joined they are the text) and why it ended."""

    pieces: tuple[str, ...]
    finish_reason: str  # "stop" or "length"

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def tokens(self) -> int:
        return len(self.pieces)


def generate(seed: int, natural_tokens: int, limit: int | None) -> Generated:
    """A deterministic completion of ``natural_tokens`` tokens, cut at ``limit`` if smaller.

    A natural completion ends with a full stop and finishes with ``"stop"``; one cut short by
    ``limit`` finishes with ``"length"``.
    """
    wanted = natural_tokens if limit is None else min(natural_tokens, limit)
    words = random.Random(seed).choices(VOCABULARY, k=wanted)
    pieces: list[str] = []
    capital = True
    since_stop = 0
    for i, word in enumerate(words):
        last = i == natural_tokens - 1
        if pieces and (last or since_stop == _SENTENCE_WORDS):
            pieces.append(".")
            capital, since_stop = True, 0
            continue
        piece = word.capitalize() if capital else word
        pieces.append(piece if not pieces else " " + piece)
        capital = False
        since_stop += 1
    return Generated(tuple(pieces), "length" if wanted < natural_tokens else "stop")


def logprob_values(seed: int, count: int, top: int) -> list[list[float]]:
    """``count`` rows of ``1 + top`` descending log probabilities (chosen token first)."""
    rng = random.Random(seed ^ 0x5EED)
    rows: list[list[float]] = []
    for _ in range(count):
        first = -rng.random() * 0.5
        row = [round(first, 6)]
        for _ in range(top):
            row.append(round(row[-1] - 0.5 - rng.random() * 2.0, 6))
        rows.append(row)
    return rows
