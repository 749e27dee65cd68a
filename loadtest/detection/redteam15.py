"""Red-team round 15's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, no payment, org or device); a look-alike's
account is one product's key (the docs assistant, the assessment platform, the homework app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam15_harvest import (
    continue_page,
    mark_schemes,
    pdf_sheet,
    verbosity,
)
from loadtest.detection.redteam15_personas import docs_verbose, exam_author, worksheet_app


@dataclass(frozen=True, slots=True)
class Red15Plan:
    """Sizes of round 15's scenarios (0 leaves one out)."""

    verbose: int = 0  # each task bare to GPT-5 at verbosity high
    marking: int = 0  # each task with "write the mark scheme for this question"
    pages: int = 0  # each task on a page cut where its solution starts
    sheets: int = 0  # each task on a worksheet PDF that prints "show all your working"
    planned: int = 250  # harvest responses each strategy account takes
    docs: int = 0  # a docs assistant on GPT-5 at verbosity high
    authors: int = 0  # an assessment platform's mark-scheme button over a shared bank
    students: int = 0  # a homework app: the class's worksheet PDF and a question on it


STRATEGIES = 4  # the first rows of ``populate15``'s table are strategies
RED15_NONE = Red15Plan()
RED15_FULL = Red15Plan(verbose=5, marking=5, pages=5, sheets=5, docs=3, authors=3, students=3)
RED15_QUICK = Red15Plan(verbose=1, marking=1, pages=1, sheets=1, planned=40, authors=1, students=1)


def populate15(red: Red15Plan, add: Callable[..., Any]) -> None:
    """Add round 15's accounts of ``red`` through ``add`` (``scenarios.build``'s):
    strategies (harvest, ``planned`` each), then look-alikes (benign)."""
    table: tuple[tuple[str, int, Callable[..., Any]], ...] = (
        ("red15_verbosity", red.verbose, verbosity),
        ("red15_mark_scheme", red.marking, mark_schemes),
        ("red15_continue_page", red.pages, continue_page),
        ("red15_pdf_sheet", red.sheets, pdf_sheet),
        ("red15_docs_verbose", red.docs, docs_verbose),
        ("red15_exam_author", red.authors, exam_author),
        ("red15_worksheet_app", red.students, worksheet_app),
    )
    for k, (scenario, count, fn) in enumerate(table):
        kwargs = {"planned": red.planned} if k < STRATEGIES else {}
        role = "harvest" if k < STRATEGIES else "benign"
        for _ in range(count):
            add(scenario, role, fn, **kwargs)
