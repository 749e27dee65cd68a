"""Honest personas on the Responses API, whose chats live in the provider's storage.

* ``responses_tutor``: a tutoring app built on the Responses API: a student's homework
  question in the app's step-by-step wording (its template, as ``tutoring_app``'s), then
  zero to four follow-ups, each continuing the answer before it by ``previous_response_id``
  (the app keeps no history of its own). The step-by-step ask is made once, in the chat's
  first request, and every follow-up continues it: the look-alike of a harvester that keeps
  its ask in a stored root and branches bare tasks off it.
"""

from __future__ import annotations

import random
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, human_gap, office, zipf_pick
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

RESPONSES = "/v1/responses"
STACK = {"User-Agent": "OpenAI/Python 1.99.1", "X-Stainless-Lang": "python"}
INSTRUCTIONS = "You are Tutorly, a friendly homework helper for secondary-school students."


def _body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4.1-mini", "instructions": INSTRUCTIONS, "input": text, **extra}


def responses_tutor(acc: Account, ctx: Context) -> Behaviour:
    """After school, students' chats: the question, then 0-4 follow-ups chained by id."""
    from loadtest.detection.personas import TUTOR_TEMPLATES  # the tutoring app's wording

    rng = random.Random(f"responses-tutor-{acc.behaviour_seed}")
    template = rng.choice(TUTOR_TEMPLATES)
    homework = rng.sample(list(ctx.pools.benign), min(60, len(ctx.pools.benign)))
    span = min(5.0, ctx.days)
    t = ctx.start + rng.uniform(0, max(0.0, ctx.days - span)) * DAY
    end = t + span * DAY
    per_day = max(15, int(100 * ctx.scale))
    while t < end:
        day_start = t = office(t, rng, 15, 22)
        for _ in range(per_day):
            first = _body(template.format(q=zipf_pick(rng, homework)), max_output_tokens=1500)
            t, out = yield from ask(t, Request(first, headers=STACK, path=RESPONSES))
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
                if not out.response_id:
                    break  # nothing to continue
                t += human_gap(rng, 60)
                follow = _body(rng.choice(FOLLOW_UPS), previous_response_id=out.response_id)
                t, out = yield from ask(t, Request(follow, headers=STACK, path=RESPONSES))
            t += rng.expovariate(1 / 120)
        t = day_start + DAY - 7 * HOUR
