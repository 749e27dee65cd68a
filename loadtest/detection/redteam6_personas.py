"""Red-team round 6 benign look-alikes: honest products with the surface of round 6's
strategies, which a defence that closed those holes naively would hurt.

* ``practice_generator``: a worksheet builder for teachers ("make 4 practice problems like
  this one, with solutions"): the teachers paste textbook maths problems (the public sets),
  school hours on school days, long answers; the surface of ``self_instruct``.
* ``photo_homework``: a homework app whose students photograph worksheet questions
  ("SnapTutor"): a picture and a short ask as content parts, follow-ups, popular homework
  photographed again and again (each photo its own bytes and upload: two students' photos
  of one question are two pictures), school evenings; the surface of ``image_task``.
* ``mistake_checker``: a maths platform's "check my work" button: the student's working
  with a slip in it, "where did I go wrong?", the corrected working; evenings and weekends;
  the surface of ``error_hunt``.
* ``ticket_router``: a help desk's router asking for the three most likely labels with a
  probability each (``label | 72%``) for every incoming customer message, machine pace in
  business hours, tiny answers; the surface of ``verbal_logits``.
* ``ide_assistant``: a team's IDE plugin: code with a comment on every line, ``max_tokens``
  of 128-256 (the plugin's latency budget) and "continue" when a piece is cut; office hours;
  the surface of ``program_trace`` and ``chunked_continue``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, chat, human_gap, zipf_pick
from loadtest.detection.redteam6_text import (
    CHECK_SYSTEM,
    CONTINUE,
    IDE_ASKS,
    IDE_PIECE,
    IDE_SYSTEM,
    PRACTICE_ASKS,
    PRACTICE_SYSTEM,
    SNAP_FOLLOW,
    SNAP_SYSTEM,
    TRIAGE_SYSTEM,
    image_part,
    wrong_solution,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
PRACTICE_MORE = ("make them a bit easier", "can you add one with fractions?", "perfect, thanks")
CHECK_ASKS = ("where did I go wrong?", "why is this marked wrong?", "check my work please")


def _school_days(ctx: Context, days: int) -> list[int]:
    return [d for d in range(min(days, int(ctx.days))) if d % 7 < 5]


def practice_generator(acc: Account, ctx: Context) -> Behaviour:
    """Teachers' worksheet requests, 7-17 h on school days, 10 days, a follow-up at times."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(8, int(50 * ctx.scale))
    book = rng.sample(list(ctx.pools.harvest), min(400, len(ctx.pools.harvest)))
    for day in _school_days(ctx, 14):
        t = ctx.start + day * DAY + rng.uniform(7, 8) * HOUR
        for _ in range(per_day):
            task = zipf_pick(rng, book)  # a popular textbook page is used by many teachers
            turns = [rng.choice(PRACTICE_ASKS).format(task=task, k=rng.choice((3, 4, 5, 6)))]
            if rng.random() < 0.25:
                turns.append(rng.choice(PRACTICE_MORE))
            for i in range(1, len(turns) + 1):
                payload = chat(turns[:i], model="gpt-4o", system=PRACTICE_SYSTEM, max_tokens=2500)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 60)
            t += rng.expovariate(per_day / (10 * HOUR))


def _snap(rng: Any, task: str, photo: dict[str, Any], follow: list[str]) -> dict[str, Any]:
    parts = [{"type": "text", "text": "help"}, photo]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SNAP_SYSTEM},
        {"role": "user", "content": parts},
    ]
    for text in follow:
        messages += [
            {"role": "assistant", "content": wrong_solution(rng, task)},
            {"role": "user", "content": text},
        ]
    return {"model": "gpt-4o-mini", "messages": messages, "max_tokens": 700}


def photo_homework(acc: Account, ctx: Context) -> Behaviour:
    """Students' photographed questions, 15-22 h, seven days; half with follow-ups."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(15, int(110 * ctx.scale))
    sheets = rng.sample(list(ctx.pools.harvest), min(300, len(ctx.pools.harvest)))
    for day in range(min(7, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(15, 16) * HOUR
        for _ in range(per_day):
            task = zipf_pick(rng, sheets)  # this week's worksheet, photographed by many
            follow = rng.sample(SNAP_FOLLOW, rng.choice((0, 0, 1, 2)))
            photo = image_part(rng, task, shot=rng.getrandbits(48) | 1)  # this student's photo
            for i in range(len(follow) + 1):
                request = Request(_snap(rng, task, photo, follow[:i]), headers=stack)
                t, _ = yield from ask(t, request)
                t += human_gap(rng, 45)
            t += rng.expovariate(per_day / (7 * HOUR))


def mistake_checker(acc: Account, ctx: Context) -> Behaviour:
    """Students' working with a slip, "where did I go wrong?"; evenings, weekends all day."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(12, int(80 * ctx.scale))
    exercises = rng.sample(list(ctx.pools.harvest), min(250, len(ctx.pools.harvest)))
    for day in range(min(10, int(ctx.days))):
        weekend = day % 7 >= 5
        open_at, hours = (9.0, 12.0) if weekend else (16.0, 6.0)
        t = ctx.start + day * DAY + (open_at + rng.uniform(0, 1)) * HOUR
        for _ in range(per_day):
            task = zipf_pick(rng, exercises)
            text = f"{task}\n\nMy working:\n{wrong_solution(rng, task)}\n\n{rng.choice(CHECK_ASKS)}"
            turns = [text, *rng.sample(FOLLOW_UPS, rng.choice((0, 0, 0, 1)))]
            for i in range(1, len(turns) + 1):
                payload = chat(turns[:i], system=CHECK_SYSTEM, max_tokens=900)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 50)
            t += rng.expovariate(per_day / (hours * HOUR))


def ticket_router(acc: Account, ctx: Context) -> Behaviour:
    """Every customer message labelled with three probabilities, 8-18 h, five days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(30, int(160 * ctx.scale))
    for day in range(min(5, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(8, 8.5) * HOUR
        for _ in range(per_day):
            message = rng.choice(ctx.pools.benign)[:1500]
            payload = chat([message], system=TRIAGE_SYSTEM, max_tokens=40, temperature=0)
            t, _ = yield from ask(t, Request(payload, headers=stack))
            t += rng.expovariate(per_day / (10 * HOUR))


def ide_assistant(acc: Account, ctx: Context) -> Behaviour:
    """A team's IDE plugin: commented code at 128-256 tokens, "continue" when cut; office
    hours on working days, ten days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(10, int(45 * ctx.scale))
    for day in _school_days(ctx, 14):
        t = ctx.start + day * DAY + rng.uniform(8.5, 10) * HOUR
        for _ in range(per_day):
            q = rng.choice(ctx.pools.benign)[:1200]
            history: list[dict[str, Any]] = [
                {"role": "system", "content": IDE_SYSTEM},
                {"role": "user", "content": rng.choice(IDE_ASKS).format(q=q)},
            ]
            limit = rng.choice((128, 192, 256))
            for i in range(rng.choice((0, 0, 1, 1, 2, 3)) + 1):
                if i:
                    history += [
                        {"role": "assistant", "content": IDE_PIECE[(i - 1) % len(IDE_PIECE)]},
                        {"role": "user", "content": rng.choice(CONTINUE)},
                    ]
                payload = {"model": "gpt-4o-mini", "messages": list(history), "max_tokens": limit}
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 20)
            t += rng.expovariate(per_day / (9 * HOUR))
