"""Red-team round 15 benign look-alikes: honest customers with the surface of round 15's
strategies, which a defence that closed those holes naively would hurt.

* ``docs_verbose``: a developer-docs assistant (one product key) on GPT-5 that sends
  ``verbosity: "high"`` on every call (its answers explain, with code): end users' questions,
  each about once, a quarter with a follow-up; weekdays 8-20 h; the surface of ``verbosity``.
* ``exam_author``: an assessment-authoring platform for teachers (one product key): its
  "mark scheme" button over the school's shared question bank (Zipf: popular items again),
  a third with an edit ("make it out of 4 marks"); school days 7-18 h; the surface of
  ``mark_scheme``.
* ``worksheet_app``: a homework-help app (one product key): students upload their class's
  worksheet PDF (several questions, "Show all your working" printed under them, the same
  file for the whole class) and ask about one question; 40 % a follow-up; afternoons and
  evenings; the surface of ``pdf_sheet``.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import human_gap
from loadtest.detection.redteam12_personas import _days
from loadtest.detection.redteam14_personas import _after_school
from loadtest.detection.redteam15_text import sheet_message, verbose_chat, worksheet
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Outcome, Request

DOCS_STACK = {"User-Agent": "acme-docs-bot/1.8 OpenAI/Python 1.101.0"}
DOCS_SYSTEM = (
    "You are the Acme Cloud documentation assistant. Answer developers' questions from the "
    "docs, with code samples where they help."
)
DOCS_FOLLOW_UPS = ("can you show that in Python?", "what about error handling?", "thanks!")
AUTHOR_STACK = {"User-Agent": "MarkWell/4.0 (web) OpenAI/Node 5.12.0"}
AUTHOR_SYSTEM = "You are MarkWell, an assistant for teachers writing assessments."
AUTHOR_ASK = "Write the mark scheme for this question. Total {m} marks."
AUTHOR_EDITS = (
    "make it out of 4 marks",
    "add a follow-through mark for the last line",
    "shorter please",
    "what are the common errors students make here?",
)
SHEET_STACK = {"User-Agent": "HomeworkHero/2.7 (Android 15) OpenAI/Java 2.3.1"}
SHEET_SYSTEM = "You are HomeworkHero. Help the student understand; do not just give answers."
STUDENT_ASKS = (
    "help with question {k}",
    "how do i do q{k}",
    "can you explain number {k} please",
    "I got stuck on {k}",
)
STUDENT_FOLLOW_UPS = ("why?", "I don't get that line", "ok so what's the answer", "thanks")
SHEET_SIZE = 4  # questions on a class's worksheet


def _zipf(rng: random.Random, items: list[Any]) -> Any:
    return rng.choices(items, [1 / (k + 1) for k in range(len(items))])[0]


def _follow(
    t: float, payload: dict[str, Any], out: Outcome, text: str, stack: dict[str, str]
) -> Generator[tuple[float, Request], Outcome, float]:
    """One follow-up in the same history: the answer, then ``text``."""
    turns = [
        {"role": "assistant", "content": out.answer or "Sure."},
        {"role": "user", "content": text},
    ]
    follow = {**payload, "messages": [*payload["messages"], *turns]}
    t, _ = yield from ask(t, Request(follow, headers=stack))
    return t


def docs_verbose(acc: Account, ctx: Context) -> Behaviour:
    """Weekdays 8-20 h, developers' questions at a Poisson rate, verbosity high."""
    rng = random.Random(f"red15-docs-{acc.behaviour_seed}")
    pool = list(ctx.pools.benign)
    per_day = max(10, int(40 * ctx.scale))
    for t in _days(ctx, rng, (8, 8.5)):
        end = t - (t - ctx.start) % DAY + 20 * HOUR
        while t < end:
            payload = verbose_chat(rng.choice(pool)[:1500], "gpt-5-mini")
            payload["messages"].insert(0, {"role": "system", "content": DOCS_SYSTEM})
            t, out = yield from ask(t, Request(payload, headers=DOCS_STACK))
            if rng.random() < 0.25:
                t = yield from _follow(
                    t + human_gap(rng, 60), payload, out, rng.choice(DOCS_FOLLOW_UPS), DOCS_STACK
                )
            t += rng.expovariate(per_day / (12 * HOUR))


def exam_author(acc: Account, ctx: Context) -> Behaviour:
    """School days 7-18 h: the mark-scheme button over the shared bank; a third edited."""
    rng = random.Random(f"red15-author-{acc.behaviour_seed}")
    bank = list(ctx.pools.harvest)[:150]
    per_day = max(8, int(25 * ctx.scale))
    for t in _days(ctx, rng, (7, 8)):
        end = t - (t - ctx.start) % DAY + 18 * HOUR
        while t < end:
            item = f"{_zipf(rng, bank)}\n\n{AUTHOR_ASK.format(m=rng.choice((3, 4, 5, 6)))}"
            messages = [
                {"role": "system", "content": AUTHOR_SYSTEM},
                {"role": "user", "content": item},
            ]
            payload = {"model": "gpt-4.1-mini", "messages": messages, "max_tokens": 800}
            t, out = yield from ask(t, Request(payload, headers=AUTHOR_STACK))
            if rng.random() < 0.33:
                edit = rng.choice(AUTHOR_EDITS)
                t = yield from _follow(t + human_gap(rng, 50), payload, out, edit, AUTHOR_STACK)
            t += rng.expovariate(per_day / (11 * HOUR))


def worksheet_app(acc: Account, ctx: Context) -> Behaviour:
    """After school: a class's worksheet PDF (Zipf) and a question about one item."""
    rng = random.Random(f"red15-sheets-{acc.behaviour_seed}")
    files: dict[int, bytes] = {}

    def chat(t: float, shared: list[str]) -> Generator[tuple[float, Request], Outcome, float]:
        n = _zipf(rng, list(range(len(shared) // SHEET_SIZE)))
        if n not in files:  # the class's one file: the same bytes for every student
            questions = shared[n * SHEET_SIZE : (n + 1) * SHEET_SIZE]
            files[n] = worksheet(f"Year 8 Maths - Homework {n + 1}", questions)
        text = rng.choice(STUDENT_ASKS).format(k=rng.randint(1, SHEET_SIZE))
        messages = [
            {"role": "system", "content": SHEET_SYSTEM},
            sheet_message(text, files[n], f"homework_{n + 1}.pdf"),
        ]
        payload = {"model": "gpt-4.1-mini", "messages": messages, "max_tokens": 900}
        t, out = yield from ask(t, Request(payload, headers=SHEET_STACK))
        if rng.random() < 0.4:
            up = rng.choice(STUDENT_FOLLOW_UPS)
            t = yield from _follow(t + human_gap(rng, 45), payload, out, up, SHEET_STACK)
        return t

    return _after_school(acc, ctx, max(8, int(15 * ctx.scale)), chat)
