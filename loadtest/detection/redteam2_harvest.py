"""Red-team round 11b harvest strategies, written from the README, the policy reference, the
kit's interfaces and round 1's write-up only (not from the detector's code or its changes).

What an operator does next, once squads, mimics, drips and rotators are known to the defence:

* ``sleeper``: accounts that age for days as ordinary users (a few topics revisited, follow-ups,
  light use), then harvest at human pace while keeping a share of their old habits.
* ``topic_member``: squads whose members each stay inside one topic area (tasks close to the
  member's own seed task), so no member sweeps; the squad's seeds cover the task space. No
  shared waves, template, address or client stack: the partition is the only coordination.
* ``app_mimic``: harvesters that copy a popular product's step-by-step system prompt and its
  steady machine rate, to hide among the honest customers of that app template.
* ``chain``: multi-turn "conversations" whose turns are independent tasks: each request carries
  the earlier tasks as history and a new task as its last turn.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import FOLLOW_UPS, Interests, chat, human_gap, office
from loadtest.detection.redteam_harvest import disguise, harvest_body
from loadtest.detection.redteam_personas import APPS
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
WORD = re.compile(r"[a-z]{4,}")


def _words(text: str) -> frozenset[str]:
    return frozenset(WORD.findall(text.lower()))


def topic_area(pool: Sequence[str], seed_task: str, size: int) -> list[str]:
    """The ``size`` tasks of ``pool`` closest to ``seed_task`` by shared words (Jaccard):
    one member's topic area."""
    seed = _words(seed_task)

    def closeness(task: str) -> float:
        words = _words(task)
        return len(seed & words) / max(1, len(seed | words))

    return sorted(pool, key=closeness, reverse=True)[:size]


def sleeper(aging_days: float) -> BehaviourFn:
    """An account that is an ordinary light user for ``aging_days`` (a few topics, follow-ups),
    then harvests in office hours, one benign chat in five kept up as before."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        topics = Interests(rng, ctx.pools.benign, rng.randint(2, 4), 0.3)
        wake = ctx.start + min(aging_days, ctx.days / 2) * DAY
        t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng)
        while t < wake:  # aging: a few chats a day
            turns = [topics.next(), *rng.sample(FOLLOW_UPS, rng.choice((0, 1, 1, 2)))]
            for i in range(1, len(turns) + 1):
                t, _ = yield from ask(t, Request(chat(turns[:i]), headers=stack))
                t += human_gap(rng, 40)
            t = office(t + rng.uniform(1, 5) * HOUR, rng)
        source = tasks(ctx, rng)
        served = 0
        t = office(max(t, wake), rng)
        while served < acc.planned and t < ctx.end:
            if rng.random() < 0.2:
                request = Request(chat([topics.next()]), headers=stack)
            else:
                request = Request(harvest_body(rng, next(source)), harvest=True, headers=stack)
            t, out = yield from ask(t, request)
            if out.stopped:
                return
            served += int(out.served and request.harvest)
            t = office(t + human_gap(rng, 240), rng)

    return behaviour


def topic_member(squad: int, member: int, size: int) -> BehaviourFn:
    """Member ``member`` of a squad of ``size``: its own topic area of the pool (the squad's
    seeds spread over the pool), each task once, disguised, human pace in its own hours."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        pool = list(ctx.pools.harvest)
        random.Random(f"red2-topics-{squad}").shuffle(pool)
        seed_task = pool[member * len(pool) // max(1, size)]
        area = topic_area(pool, seed_task, max(acc.planned, 20))
        rng.shuffle(area)
        stack = client_stack(rng)
        start = rng.uniform(6, 11)
        t = office(ctx.start + rng.uniform(0, 1) * DAY, rng, start, start + 10)
        for task in area[: acc.planned]:
            body = harvest_body(rng, task)
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            t = office(t + human_gap(rng, 900), rng, start, start + 10)

    return behaviour


def app_mimic(app: int) -> BehaviourFn:
    """A harvester behind app template ``app``'s exact system prompt and output length, at the
    apps' steady rate over 14-16 hours a day; the user turns are bare tasks."""
    system, max_tokens = APPS[app % len(APPS)]

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        source = tasks(ctx, rng)
        gap = rng.uniform(14, 16) * HOUR / 150
        open_h = rng.uniform(6, 9)
        t = ctx.start + open_h * HOUR + rng.uniform(0, DAY / 2)
        served = 0
        while served < acc.planned and t < ctx.end:
            turns = [next(source)]
            if rng.random() < 0.1:
                turns.append(rng.choice(FOLLOW_UPS))
            body = chat(turns, system=system, max_tokens=max_tokens)
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            served += out.served
            t = office(t + gap * rng.uniform(0.5, 1.5), rng, open_h, open_h + 15)

    return behaviour


def chain(acc: Account, ctx: Context) -> Behaviour:
    """Sessions of 2-5 independent tasks sent as one growing conversation (earlier tasks as
    history, a new task as the last turn), think time between turns, office hours."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    source = tasks(ctx, rng)
    served = 0
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng)
    while served < acc.planned and t < ctx.end:
        system, first = disguise(rng, next(source))
        turns = [first]
        for i in range(rng.randint(2, 5)):
            if i:
                turns.append(disguise(rng, next(source))[1])
                t += human_gap(rng, 45)
            body = chat(turns, system=system, max_tokens=rng.choice((1200, 1800, 2500)))
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            served += out.served
        t = office(t + human_gap(rng, 300), rng)
