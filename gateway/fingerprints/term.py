"""A lexicon term: what the elicitation and product lexicons match (one format, one matcher:
:class:`gateway.fingerprints.lexicon.Lexicon`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    kind: str  # "cot" or "rubric"
    weight: float
    anchors: tuple[str, ...]
    pattern: str
    literal: str = ""  # alternatively to anchors: a substring that must occur
    # substrings (casefolded, no whitespace) at least one of which every match of the
    # pattern contains: a text with none of them is not searched (empty: no such check)
    needs: tuple[str, ...] = ()


def alt(*options: str) -> str:
    """A non-capturing alternation."""
    return "(?:" + "|".join(options) + ")"
