"""Red-team round 8 benign look-alikes: common honest products with the surface of round 8's
strategies, which a defence that closed those holes naively would hurt.

* ``frontend_user``: a user of a desktop "bring your own key" chat frontend (TypingMind,
  Chatbox, LibreChat and the like): the frontend's fixed system prompt (with "think step by
  step" in it) and client stack on every request, the person's own real prompts (code,
  writing, other languages; a few interests revisited), follow-ups, long answers; the
  surface of ``prompt_replay`` and ``app_user`` (many unlinked keys, one app's prompt and
  stack).
* ``answer_key``: a homework app's "explain this answer" button (one app key): a textbook
  problem (popular pages again and again), the book's answer, "I don't understand how they
  got this"; school evenings; the surface of ``rationalize``.
* ``reply_suggest``: a chat product's suggested replies (smart reply): after each answer the
  app asks for three short replies the user might send next, from the transcript; users pick
  one at times and it is asked with the chat as history; the surface of ``self_chat``.
* ``bootcamp_student``: a coding bootcamp's students (each a personal key): the week's
  exercises (the same for every student, coding prompts), "explain step by step", follow-ups
  ("now write unit tests"), evenings; the surface of ``code_explain``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, Interests, chat, human_gap, messages, zipf_pick
from loadtest.detection.redteam8_text import (
    CAMP_ASKS,
    CHAT_STUB,
    CODE_FOLLOW,
    FRONTEND_STACK,
    FRONTEND_SYSTEM,
    KEY_ASK,
    KEY_SYSTEM,
    SUGGEST_ASK,
    SUGGEST_SYSTEM,
    coding,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]


def _evening(ctx: Context, rng: random.Random, day: int, weekend_from: float = 10.0) -> float:
    weekend = day % 7 >= 5
    return ctx.start + day * DAY + ((weekend_from if weekend else 17.0) + rng.uniform(0, 1)) * HOUR


def frontend_user(acc: Account, ctx: Context) -> Behaviour:
    """A person's conversations through the frontend: 6-25 a day, 2-5 turns at times, own
    interests revisited, mornings or evenings, two weeks."""
    rng = ctx.rng(acc)
    interests = Interests(rng, ctx.pools.benign, rng.randint(3, 6), 0.35)
    for day in range(int(ctx.days)):
        t = ctx.start + day * DAY + rng.choice((8.0, 13.0, 19.0)) * HOUR + rng.uniform(0, HOUR)
        for _ in range(max(3, int(rng.randint(6, 25) * ctx.scale))):
            turns = [interests.next()[:3000]]
            for _ in range(rng.choice((0, 0, 1, 2, 3))):
                turns.append(rng.choice(FOLLOW_UPS))
            for i in range(len(turns)):
                payload = chat(turns[: i + 1], system=FRONTEND_SYSTEM, max_tokens=2000)
                t, _ = yield from ask(t, Request(payload, headers=FRONTEND_STACK))
                t += human_gap(rng, 60)
            t += human_gap(rng, 900)


def answer_key(acc: Account, ctx: Context) -> Behaviour:
    """The button pressed on a textbook's problems (Zipf popularity, the book's fixed
    answers), school evenings and weekend days, ten days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    book = rng.sample(list(ctx.pools.harvest), min(300, len(ctx.pools.harvest)))
    answers = {task: rng.randint(2, 900) for task in book}
    per_day = max(15, int(100 * ctx.scale))
    for day in range(min(10, int(ctx.days))):
        t = _evening(ctx, rng, day)
        hours = 8.0 if day % 7 >= 5 else 5.0
        for _ in range(per_day):
            task = zipf_pick(rng, book)
            text = KEY_ASK.format(task=task, n=answers[task])
            payload = chat([text], system=KEY_SYSTEM, max_tokens=600)
            t, _ = yield from ask(t, Request(payload, headers=stack))
            t += rng.expovariate(per_day / (hours * HOUR))


def reply_suggest(acc: Account, ctx: Context) -> Behaviour:
    """The chat app's users, 8-23 h, a week: each answer is followed by a suggestion
    request; a suggested reply is taken as the next turn 40 % of the time."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(20, int(100 * ctx.scale))
    for day in range(min(7, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(8, 8.5) * HOUR
        for _ in range(per_day):
            turns = [rng.choice(ctx.pools.benign)[:1500]]
            while True:
                payload = {"model": "gpt-4o-mini", "messages": messages(turns), "max_tokens": 800}
                t, _ = yield from ask(t, Request(payload, headers=stack))
                seen = "\n\n".join(f"User: {u[:600]}\n\nAssistant: {CHAT_STUB}" for u in turns[-3:])
                text = SUGGEST_ASK.format(transcript=seen)
                payload = chat([text], system=SUGGEST_SYSTEM, max_tokens=40, temperature=0.7)
                t, _ = yield from ask(t + rng.uniform(0.3, 1.0), Request(payload, headers=stack))
                if len(turns) >= 4 or rng.random() > 0.4:
                    break
                turns.append(rng.choice(FOLLOW_UPS))
                t += human_gap(rng, 30)
            t += rng.expovariate(per_day / (15 * HOUR))


def bootcamp_student(acc: Account, ctx: Context) -> Behaviour:
    """The week's exercises (one list for the whole class, a new one each week), evenings and
    weekend days; 4-10 exercises a day, a follow-up half the time."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    exercises = coding(ctx.pools.benign) or list(ctx.pools.benign)
    course = random.Random("red8-bootcamp")
    weeks = [course.sample(exercises, min(25, len(exercises))) for _ in range(3)]
    for day in range(int(ctx.days)):
        week = weeks[min(day // 7, len(weeks) - 1)]
        t = _evening(ctx, rng, day, 13.0)
        for _ in range(max(2, int(rng.randint(4, 10) * max(ctx.scale, 0.5)))):
            turns = [f"{rng.choice(CAMP_ASKS)}\n\n{zipf_pick(rng, week)}"]
            if rng.random() < 0.5:
                turns.append(rng.choice(CODE_FOLLOW))
            for i in range(len(turns)):
                payload: dict[str, Any] = chat(turns[: i + 1], max_tokens=1500)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 120)
            t += human_gap(rng, 600)
