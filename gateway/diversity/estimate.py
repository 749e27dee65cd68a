"""Fast prompt-token estimates (no tokenizer): about 4 ASCII characters per token.

Text: ``ceil(ascii_chars / 4 + other_chars / 1.5)`` (CJK runs about one token per character,
Cyrillic and accented scripts two to three characters per token: over-estimates are settled
against the upstream's real usage afterwards). Chat requests add ``MESSAGE_OVERHEAD`` per
message and ``REPLY_PRIMING`` once, as OpenAI's chat format does; an image part counts
``IMAGE_TOKENS``. Cost is O(1) for ASCII text and bounded for huge non-ASCII text (a sample).
"""

from __future__ import annotations

import math

MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3
IMAGE_TOKENS = 85
_SAMPLE = 16_384


def estimate_text_tokens(text: str) -> int:
    """Estimated tokens of one text."""
    n = len(text)
    if n == 0:
        return 0
    if text.isascii():
        return math.ceil(n / 4)
    sample = text if n <= _SAMPLE else text[:_SAMPLE]
    ascii_share = len(sample.encode("ascii", "ignore")) / len(sample)
    return math.ceil(n * ascii_share / 4 + n * (1.0 - ascii_share) / 1.5)


def estimate_tokens_ids(count: int) -> int:
    """Token-id prompts (``prompt: [1, 2, 3]``) are exact."""
    return max(count, 0)
