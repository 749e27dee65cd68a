"""Red-team round 3 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's interfaces and rounds 1-2's write-ups only (not from the detector).

The README says what the detector looks at (coverage, templating, elicitation wording,
conversation shape, timing), that it acts only when behaviour and a harvest-value signal
agree, and that idle state expires after a day. A well-funded distiller who read it:

* ``resampler``: rejection sampling. Few tasks, each asked about eight times over days at
  temperature 0.6-1.0 with a fresh seed (a third as an "another way?" follow-up): many
  reasoning paths per task and almost no new topic. Low coverage is the point.
* ``reasoning_model``: reasoning without words. Bare tasks, no system prompt, to a reasoning
  model with ``reasoning_effort: high`` and ``max_completion_tokens`` below the
  maximum-output mark: the trace comes from the model, not from the wording.
* ``window_hopper``: a long-tail rate across the detector's state window. Sessions of 20-32
  disguised asks (under ``min_requests``), then 26-40 hours idle (longer than the 1 d
  window), again and again for weeks.
* ``app_cover``: a real app with real end users whose operator slips tasks into its own
  stream (two requests in five) under the product's system prompt, at the product's rate.
* ``packer``: request packing. Four to six tasks in one numbered request, output below the
  maximum-output mark: a fifth of the requests (and of every per-request count) per task.
* ``launder``: topic laundering. Each task rides after a passage from one of the account's few
  standing interests (2-4 benign prompts, revisited; a new one one time in fifty), so the
  account's topic mix is a person's; one request in five is the interest alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import FOLLOW_UPS, Interests, chat, human_gap, office
from loadtest.detection.redteam_harvest import harvest_body
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
SAMPLES = 8  # resampler: samples per task
RETRY_LEADS = ("", "", "", "again:", "Another go at this one.", "(retry)", "One more time:")
ANOTHER = (
    "Could you do it a different way?",
    "Is there another method?",
    "Try it once more from scratch.",
    "Can you check that with a second approach?",
)
REASONERS = ("o3-mini", "o4-mini", "o3-mini", "o1")
QUILL = (
    "You are Quill, a homework and writing helper for students. Give complete, worked "
    "solutions and explain them clearly. Be friendly and concise."
)
PACK_LEADS = (
    "A few from my problem set:",
    "Batch for today, answer each one:",
    "Please solve all of these.",
    "Questions:",
    "",
)
CONNECTORS = (
    "Unrelated, but: ",
    "Also, a separate question.\n\n",
    "Side note, my kid asked me this:\n\n",
    "Different topic:\n\n",
    "P.S. ",
)


def _hours(rng: random.Random) -> tuple[float, float]:
    """A person's working window (UTC hours), shifted per account like a time zone."""
    start = rng.uniform(6, 11)
    return start, min(23.9, start + rng.uniform(10, 12))


def _sweep(
    acc: Account, ctx: Context, bodies: Iterator[dict[str, Any]], mean_gap: float
) -> Behaviour:
    """One harvest body after another from ``bodies`` in the account's office hours, a
    person's think time (mean ``mean_gap`` s) apart, until ``planned`` or a challenge."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    start, end = _hours(rng)
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, start, end)
    served = 0
    for body in bodies:
        if served >= acc.planned or t >= ctx.end:
            return
        t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
        if out.stopped:
            return
        served += out.served
        t = office(t + human_gap(rng, mean_gap), rng, start, end)


def resampler(acc: Account, ctx: Context) -> Behaviour:
    """``planned / 8`` tasks, each sampled eight times (rounds over the task set in a fresh
    order), high temperature, fresh seed, human pace in office hours."""
    rng = random.Random(f"resample-{acc.behaviour_seed}")
    source = tasks(ctx, rng)
    chosen = [next(source) for _ in range(max(1, -(-acc.planned // SAMPLES)))]

    def bodies() -> Iterator[dict[str, Any]]:
        for _ in range(SAMPLES):
            for task in rng.sample(chosen, len(chosen)):
                lead = rng.choice(RETRY_LEADS)
                turns = [f"{lead}\n\n{task}" if lead else task]
                if rng.random() < 0.3:
                    turns.append(rng.choice(ANOTHER))
                yield chat(
                    turns,
                    temperature=round(rng.uniform(0.6, 1.0), 2),
                    seed=rng.randrange(1 << 31),
                    max_tokens=rng.choice((800, 1200, 1600)),
                )

    return _sweep(acc, ctx, bodies(), 120)


def reasoning_model(acc: Account, ctx: Context) -> Behaviour:
    """Bare tasks to a reasoning model at high effort, no wording asking for reasoning."""
    rng = random.Random(f"reason-{acc.behaviour_seed}")
    model = rng.choice(REASONERS)
    bodies = (
        chat(
            [task],
            model=model,
            reasoning_effort="high",
            max_completion_tokens=rng.randrange(2500, 3900, 100),
        )
        for task in tasks(ctx, rng)
    )
    return _sweep(acc, ctx, bodies, 90)


def window_hopper(acc: Account, ctx: Context) -> Behaviour:
    """Sessions of 20-32 disguised asks 30-90 s apart, each followed by 26-40 hours idle."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    source = tasks(ctx, rng)
    t = office(ctx.start + rng.uniform(0, 1.5) * DAY, rng, 7, 23)
    served = 0
    while served < acc.planned and t < ctx.end:
        for _ in range(rng.randint(20, 32)):
            body = harvest_body(rng, next(source))
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            served += out.served
            if served >= acc.planned:
                return
            t += rng.uniform(30, 90)
        t = office(t + rng.uniform(26, 40) * HOUR, rng, 7, 23)


def app_cover(acc: Account, ctx: Context) -> Behaviour:
    """A product's stream (its users' questions under its system prompt, 150 a day over 14-16
    hours, every day) with tasks in two requests out of five; only the tasks count."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    source = tasks(ctx, rng)
    open_h = rng.uniform(6, 9)
    gap = rng.uniform(14, 16) * HOUR / 150
    t = ctx.start + open_h * HOUR + rng.uniform(0, DAY / 2)
    served = 0
    while served < acc.planned and t < ctx.end:
        harvest = rng.random() < 0.4
        turns = [next(source) if harvest else rng.choice(ctx.pools.benign)]
        if rng.random() < 0.12:
            turns.append(rng.choice(FOLLOW_UPS))
        body = chat(turns, system=QUILL, max_tokens=1500)
        t, out = yield from ask(t, Request(body, harvest=harvest, headers=stack))
        if out.stopped:
            return
        served += int(out.served and harvest)
        t = office(t + gap * rng.uniform(0.5, 1.5), rng, open_h, open_h + 15)


def packer(acc: Account, ctx: Context) -> Behaviour:
    """Four to six numbered tasks per request (3,000-3,950 output tokens), human pace."""
    rng = random.Random(f"pack-{acc.behaviour_seed}")
    source = tasks(ctx, rng)

    def bodies() -> Iterator[dict[str, Any]]:
        while True:
            items = [f"{i}. {next(source)}" for i in range(1, rng.randint(4, 6) + 1)]
            text = "\n\n".join(p for p in (rng.choice(PACK_LEADS), *items) if p)
            yield chat([text], max_tokens=rng.randrange(3000, 3950, 50))

    return _sweep(acc, ctx, bodies(), 240)


def launder(acc: Account, ctx: Context) -> Behaviour:
    """Every task after a passage of one of the account's standing interests; one request in
    five the interest alone (with follow-ups at times)."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    source = tasks(ctx, rng)
    interests = Interests(rng, ctx.pools.benign, rng.randint(2, 4), 0.02)
    start, end = _hours(rng)
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, start, end)
    served = 0
    while served < acc.planned and t < ctx.end:
        topic = interests.next()[:600]
        if rng.random() < 0.2:
            turns = [topic, *rng.sample(FOLLOW_UPS, rng.choice((0, 1, 2)))]
            for i in range(1, len(turns) + 1):
                t, out = yield from ask(t, Request(chat(turns[:i]), headers=stack))
                if out.stopped:
                    return
                t += human_gap(rng, 40)
        else:
            text = f"{topic}\n\n{rng.choice(CONNECTORS)}{next(source)}"
            body = chat([text], max_tokens=rng.choice((1200, 1600, 2000)))
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            served += out.served
        t = office(t + human_gap(rng, 90), rng, start, end)
