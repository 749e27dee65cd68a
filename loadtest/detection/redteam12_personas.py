"""Red-team round 12 benign look-alikes: honest customers with the surface of round 12's
strategies, which a defence that closed those holes naively would hurt.

* ``claims_form``: an insurer's claims-triage service (one product key, a worker
  User-Agent): each adjuster's note once, under a fixed system prompt, with a JSON record to
  fill whose free-text ``justification`` says why; weekdays in office hours; the surface of
  ``fill_form`` (a record with a rationale field under another name, every item new).
* ``doc_review``: an analyst (a personal key) pasting long documents (2,400+ characters)
  with a question at the end, a third of them "walk me through it step by step",
  follow-ups; working days; the surface of ``puzzle_digest``.
* ``sw_student``: a secondary-school student in Kenya (a personal key): textbook problems
  in English with "explain step by step" in Swahili, follow-ups in Swahili; school evenings
  and weekend mornings; the surface of ``long_tail``.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import human_gap
from loadtest.detection.redteam9_text import passage
from loadtest.detection.redteam12_text import sections
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Outcome, Request

Talk = Generator[tuple[float, Request], Outcome, float]

CLAIMS_STACK = {"User-Agent": "claims-triage-worker/2.3 OpenAI/Python 1.51.0"}
CLAIMS_SYSTEM = (
    "You triage property and motor claims for Harbor Mutual. Read the adjuster's note and "
    "fill the record. Be factual; cite the note."
)
CLAIMS_RECORD = (
    '{\n  "claim": "<id>",\n  "decision": "<approve|refer|decline>",\n'
    '  "justification": "<why, citing the note>",\n  "missing_documents": []\n}'
)
REVIEW_STACK = {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/126.0"}
REVIEW_ASKS = (
    "What are the main points of this document?",
    "Is there anything here I should push back on?",
    "Walk me through the argument step by step.",
    "Walk me through this step by step, I want to be sure I follow it.",
    "Draft a short reply to this.",
    "What's missing from this?",
)
REVIEW_FOLLOW_UPS = ("Why?", "Shorter please.", "And the last section?", "Can you be specific?")
STUDENT_STACK = {"User-Agent": "Mozilla/5.0 (Linux; Android 13; SM-A145F) Chrome/125.0 Mobile"}
STUDENT_ASKS = (
    "Nieleze hatua kwa hatua tafadhali.",
    "Nisaidie hili swali, hatua kwa hatua.",
    "Sijaelewa, naomba maelezo hatua kwa hatua.",
)
STUDENT_FOLLOW_UPS = ("Sijaelewa hatua ya pili.", "Kwa nini?", "Asante! Na jibu ni lipi?")


def _days(
    ctx: Context,
    rng: random.Random,
    weekdays: tuple[float, float],
    weekends: tuple[float, float] | None = None,
) -> Iterator[float]:
    """Each simulated day's first moment: an hour drawn from ``weekdays`` or ``weekends``
    (a weekend without hours is skipped)."""
    for day in range(int(ctx.days)):
        hours = weekends if day % 7 >= 5 else weekdays
        if hours is not None:
            yield ctx.start + day * DAY + rng.uniform(*hours) * HOUR


def claims_form(acc: Account, ctx: Context) -> Behaviour:
    """Weekdays 8-18 h, adjusters' notes at a Poisson rate, each once, one record each."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.benign)
    per_day = max(15, int(40 * ctx.scale))
    for t in _days(ctx, rng, (8, 8.5)):
        end = t - (t - ctx.start) % DAY + 18 * HOUR
        while t < end:
            note = passage(rng.choice(pool), 1200)
            claim = f"HM-{rng.randint(100_000, 999_999)}"
            user = f"Claim {claim}. Adjuster's note:\n{note}\n\nRecord:\n{CLAIMS_RECORD}"
            messages = [
                {"role": "system", "content": CLAIMS_SYSTEM},
                {"role": "user", "content": user},
            ]
            payload = {"model": "gpt-4o-mini", "messages": messages, "max_tokens": 500}
            t, _ = yield from ask(t, Request(payload, headers=CLAIMS_STACK))
            t += rng.expovariate(per_day / (10 * HOUR))


def _conversation(
    acc: Account, first: str, follow_ups: list[str], stack: dict[str, str], t: float
) -> Talk:
    """One conversation: ``first``, then each follow-up, the whole chat resent each turn."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": first}]
    gap_rng = random.Random(f"{acc.behaviour_seed}-{t}")
    for follow_up in [*follow_ups, None]:
        payload = {"model": "gpt-4o", "messages": list(messages), "max_tokens": 900}
        t, _ = yield from ask(t, Request(payload, headers=stack))
        if follow_up is None:
            return t
        messages += [
            {"role": "assistant", "content": "Here is what I found."},
            {"role": "user", "content": follow_up},
        ]
        t += human_gap(gap_rng, 90)
    return t


def doc_review(acc: Account, ctx: Context) -> Behaviour:
    """Working days, two to six long documents each with a question and 0-2 follow-ups."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.benign)
    for t in _days(ctx, rng, (9, 11)):
        for _ in range(rng.randint(2, 6)):
            doc = "\n\n".join(sections(rng, pool))
            first = f"{doc}\n\n{rng.choice(REVIEW_ASKS)}"
            ups = rng.sample(REVIEW_FOLLOW_UPS, rng.choice((0, 1, 1, 2)))
            t = yield from _conversation(acc, first, ups, REVIEW_STACK, t)
            t += human_gap(rng, 1800)


def sw_student(acc: Account, ctx: Context) -> Behaviour:
    """School evenings (weekends: mornings), one to five problems with a Swahili ask and
    zero to two follow-ups."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.harvest)
    for t in _days(ctx, rng, (18.5, 21), (9, 11)):
        for _ in range(rng.randint(1, 5)):
            first = f"{rng.choice(pool)}\n\n{rng.choice(STUDENT_ASKS)}"
            ups = rng.sample(STUDENT_FOLLOW_UPS, rng.choice((0, 1, 1, 2)))
            t = yield from _conversation(acc, first, ups, STUDENT_STACK, t)
            t += human_gap(rng, 300)
