"""Red-team round 9's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one product's key (the review worker, the help-centre bot) or one person's key
(the PDF app's user, the course author).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam9_harvest import (
    cache_ride,
    quality_rater,
    query_gen,
    textbook,
    translate,
)
from loadtest.detection.redteam9_personas import (
    course_author,
    pdf_chat,
    query_rewrite,
    review_scorer,
)


@dataclass(frozen=True, slots=True)
class Red9Plan:
    """Sizes of round 9's scenarios (0 leaves one out)."""

    raters: int = 0  # quality labels: passages graded 0-5 under a fixed pipeline prompt ...
    rated: int = 500  # ... this many each (disjoint slices of the corpus)
    query_makers: int = 0  # retrieval triplets: queries and a near miss per passage ...
    passages: int = 400  # ... this many each (disjoint slices)
    cache_riders: int = 0  # one worksheet re-sent as a fixed prefix, a problem a request ...
    sheet_tasks: int = 320  # ... this many problems each (eight a worksheet)
    authors: int = 0  # synthetic textbook sections around a task
    sections: int = 300  # ... this many each
    translators: int = 0  # solved problems translated, one language an account
    translations: int = 400  # ... this many each
    reviews: int = 0
    rewriters: int = 0
    pdf_users: int = 0
    course_authors: int = 0


RED9_NONE = Red9Plan()
RED9_FULL = Red9Plan(
    raters=5,
    query_makers=5,
    cache_riders=5,
    authors=5,
    translators=5,
    reviews=3,
    rewriters=3,
    pdf_users=3,
    course_authors=3,
)
RED9_QUICK = Red9Plan(
    raters=1,
    rated=40,
    query_makers=1,
    passages=30,
    cache_riders=1,
    sheet_tasks=40,
    authors=1,
    sections=20,
    translators=1,
    translations=30,
    pdf_users=1,
)


def populate9(red: Red9Plan, add: Callable[..., Any]) -> None:
    """Add round 9's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red9_quality_rater", red.raters, quality_rater, red.rated),
        ("red9_query_gen", red.query_makers, query_gen, red.passages),
        ("red9_cache_ride", red.cache_riders, cache_ride, red.sheet_tasks),
        ("red9_textbook", red.authors, textbook, red.sections),
        ("red9_translate", red.translators, translate, red.translations),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for scenario, count, persona in (
        ("red9_review_scorer", red.reviews, review_scorer),
        ("red9_query_rewrite", red.rewriters, query_rewrite),
        ("red9_pdf_chat", red.pdf_users, pdf_chat),
        ("red9_course_author", red.course_authors, course_author),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
