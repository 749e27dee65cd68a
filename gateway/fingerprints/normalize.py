"""Text normalisation: Unicode NFKC, case folding, whitespace collapse."""

from __future__ import annotations

import unicodedata

DEFAULT_MAX_CHARS = 16_000


def cap(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Bound the work on huge prompts: keep the head and the tail (templates live there)."""
    if len(text) <= max_chars:
        return text
    tail = max_chars // 4
    return text[: max_chars - tail] + "\n" + text[-tail:]


def nfkc(text: str) -> str:
    """Compatibility-normalised text (full-width forms, ligatures, ...)."""
    return unicodedata.normalize("NFKC", text)


def normalize(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """NFKC, casefolded, whitespace runs collapsed to one space, stripped; capped."""
    return " ".join(nfkc(cap(text, max_chars)).casefold().split())
