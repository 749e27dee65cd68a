"""Continuations: "continue" after a cut answer is the same request, not a new turn (pure).

A client whose answer was cut at ``max_tokens`` sends the history back with the answer so
far as an assistant turn and a short last user turn asking for the rest ("continue", "go
on", "weiter", "继续"). That request is the first ask continued: not a follow-up (the user
asks nothing new), and the trace it gets is the sum of its pieces. A harvester uses it to
split a reasoning trace into pieces each under ``tuning.reasoning_min_tokens`` (red round
6's ``chunked_continue``); an IDE plugin with a latency budget does the same honestly.

:func:`continuation` walks the history back from the last message: a continuation form as
the last user turn right after an assistant answer, then as many earlier (continuation,
answer) pairs as there are, up to the first real ask. A form is one of the cheap phrasings
of :data:`FORMS` (several languages), alone or with a courtesy or "from where you stopped"
around it, in at most :data:`MAX_CHARS` characters: "continue" as a word inside a longer
question ("How do I continue a loop in Python?") is a real ask.

Cost: for most requests one length check of the last message; a continuation walks at most
:data:`MAX_PIECES` pairs back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_CHARS = 48  # a continuation form is short: "continue from where you stopped" is 31
MAX_PIECES = 16  # (answer, continuation) pairs counted back from the last message
# Cheap forms, normalised (lower case, no punctuation, single spaces). Not "more", "next",
# "and then?", "go ahead", "proceed": asks for something else (a Socratic tutor's "what
# next?", an agent's plan approved).
FORMS = frozenset(
    {
        # English
        "continue", "go on", "keep going", "carry on", "please continue", "continue please",
        "keep writing", "go on please",
        # German, Dutch
        "weiter", "mach weiter", "bitte weiter", "weiter bitte", "fortfahren", "fahre fort",
        "ga door", "doorgaan", "ga verder",
        # French, Spanish, Portuguese, Italian, Romanian
        "continuez", "continue stp", "poursuis", "poursuivez", "la suite", "vas y",
        "continúa", "continua", "sigue", "siga", "seguí", "continúa por favor", "prossiga",
        "continua por favor", "segue", "vai avanti", "prosegui", "continuă",
        # Slavic, Turkish, Greek
        "продолжай", "продолжи", "продолжайте", "дальше", "далее", "продовжуй", "kontynuuj",
        "dalej", "pokračuj", "nastavi", "devam", "devam et", "συνέχισε", "συνέχεια",
        # Asian languages, Arabic, Hebrew, Persian, Hindi, Indonesian, Vietnamese
        "继续", "繼續", "接着说", "接著說", "続けて", "続き", "つづけて", "続けてください",
        "계속", "계속해", "계속해줘", "계속해 주세요", "tiếp tục", "tiếp", "lanjut", "lanjutkan",
        "teruskan", "ต่อ", "ต่อเลย", "تابع", "استمر", "أكمل", "המשך", "ادامه", "ادامه بده",
        "जारी रखें", "आगे",
    }
)  # fmt: skip
# A courtesy or a pointer to the cut around a form ("ok, continue from where you left off")
_AROUND = re.compile(
    r"^(?:(?:ok(?:ay)?|yes|thanks|thank you|pls|please|now|and)\s+)*(?P<form>.+?)"
    r"(?:\s+(?:from where you (?:stopped|left off)|where you (?:stopped|left off)|from there|"
    r"writing|the answer|with the rest|please|pls|thanks|thank you))*$"
)
_PUNCT = re.compile(r"[\s.,!?;:…。！？、，~\-\"'()]+")


def is_continue_form(text: str) -> bool:
    """``text`` is only a request to go on with the cut answer."""
    if not text or len(text) > MAX_CHARS:
        return False
    norm = _PUNCT.sub(" ", text.casefold()).strip()
    if norm in FORMS:
        return True
    match = _AROUND.match(norm)
    return match is not None and match.group("form").strip() in FORMS


@dataclass(frozen=True, slots=True)
class Continuation:
    """A chat's continuation chain: ``pieces`` answers continued (0: not a continuation),
    ``ask`` the index of the message that asked (the last user turn before the chain)."""

    pieces: int = 0
    ask: int = -1


NONE = Continuation()


def _get(value: object, key: str) -> object:
    if type(value) is dict:
        return value.get(key)
    return value.get(key) if isinstance(value, Mapping) else None


def _text(content: object) -> str | None:
    """The text of a short message ``content`` (None: long, or no text)."""
    if type(content) is str:
        return content if len(content) <= MAX_CHARS else None
    if not isinstance(content, Sequence) or isinstance(content, bytes) or len(content) != 1:
        return None
    text = _get(content[0], "text")
    return text if isinstance(text, str) and len(text) <= MAX_CHARS else None


def _answer(msg: object) -> bool:
    """An assistant answer (text, not a tool call)."""
    return (
        _get(msg, "role") == "assistant"
        and not _get(msg, "tool_calls")
        and bool(_get(msg, "content"))
    )


def continuation(messages: Sequence[object]) -> Continuation:
    """The continuation chain at the end of ``messages`` (:data:`NONE` when the last
    message is no continuation form after an answer)."""
    pieces, end = 0, len(messages) - 1
    while end >= 1 and pieces < MAX_PIECES:
        last = messages[end]
        if _get(last, "role") != "user" or not _answer(messages[end - 1]):
            break
        text = _text(_get(last, "content"))
        if text is None or not is_continue_form(text):
            break
        pieces += 1
        end -= 2
    if not pieces:
        return NONE
    if end < 0 or _get(messages[end], "role") != "user":
        return Continuation(pieces, -1)  # no ask before the chain (a bare prefill)
    return Continuation(pieces, end)
