"""Time and conversation helpers shared by the benign personas and the harvest strategies."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from loadtest.detection.traffic import DAY, HOUR

FOLLOW_UPS = (
    "Can you explain that more simply?",
    "Thanks. Could you give me a concrete example?",
    "Why is that the case?",
    "Can you make it shorter?",
    "That doesn't work for me, I get an error. What else can I try?",
    "ok and what about the second part?",
    "Could you rewrite it in a more formal tone?",
    "I still don't get the step in the middle, can you go over it again?",
    "What would you recommend instead?",
    "great, now put it in a table",
    "Hmm, are you sure about that?",
    "what if I only have half the time?",
    "Can you add comments to the code?",
    "Translate that into German please",
    "ok, how would I test this?",
    "Could you list the pros and cons?",
    "Which of these is the most important?",
    "No, I meant the other one.",
    "Give me three alternatives.",
    "How long would that take, roughly?",
    "Is there a simpler way to do this without a library?",
    "And what are the risks?",
    "Please shorten it to one paragraph.",
    "Can you cite where that comes from?",
    "What would an expert say about this?",
    "sorry, I forgot to mention it needs to run on Windows",
    "Rewrite it for a 10 year old.",
    "What did I ask you first? Combine both answers.",
    "Use bullet points instead.",
    "That's wrong, the value should be 12. Try again.",
)
ASSISTANT_STUB = "Here is my answer to your question."


def hour_of(t: float) -> float:
    return (t % DAY) / HOUR


def office(t: float, rng: random.Random, start: float = 8.0, end: float = 19.0) -> float:
    """``t`` if it falls in office hours, else a jittered start of the next office day."""
    hour = hour_of(t)
    if start <= hour < end:
        return t
    wait = ((start - hour) % 24.0) * HOUR
    return t + wait + rng.uniform(0, 1.5 * HOUR)


def human_gap(rng: random.Random, mean: float) -> float:
    """Think time between two messages of a person: heavy-tailed, never machine-regular."""
    return rng.lognormvariate(0.0, 0.8) * mean


def messages(turns: Sequence[str], system: str | None = None) -> list[dict[str, Any]]:
    """A chat: the user's turns with short assistant answers between them."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for i, text in enumerate(turns):
        if i:
            out.append({"role": "assistant", "content": ASSISTANT_STUB})
        out.append({"role": "user", "content": text})
    return out


def chat(
    turns: Sequence[str], *, model: str = "gpt-4o-mini", system: str | None = None, **params: Any
) -> dict[str, Any]:
    """A chat completion body."""
    return {"model": model, "messages": messages(turns, system), **params}


def zipf_pick(rng: random.Random, items: Sequence[str], s: float = 1.1) -> str:
    """An item with Zipf-like popularity (index 0 most popular)."""
    n = len(items)
    u = rng.random()
    index = int(n ** (u**s)) - 1  # cheap heavy head, long tail
    return items[max(0, min(n - 1, index))]


class Interests:
    """A person's topics: mostly revisited, sometimes a new one from the corpus."""

    def __init__(self, rng: random.Random, pool: Sequence[str], first: int, fresh: float) -> None:
        self._rng = rng
        self._pool = pool
        self._fresh = fresh
        self.topics = [rng.choice(pool) for _ in range(first)]

    def next(self) -> str:
        if self._rng.random() < self._fresh:
            self.topics.append(self._rng.choice(self._pool))
            return self.topics[-1]
        return self._rng.choice(self.topics)  # asked again (a new chat on an old topic)
