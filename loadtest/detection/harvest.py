"""Harvest strategies, built from harvest prompts. Harvesters stop at a challenge or a block
(the point where extraction gets expensive); throttled or degraded, they keep going.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import chat, human_gap, office
from loadtest.detection.traffic import DAY, Account, Behaviour, Request

COT = (
    "Solve the following problem. Think step by step, show all of your reasoning, and then "
    "give the final answer on its own line.\n\n{task}"
)
LANGUAGES = (
    "English",
    "Spanish",
    "French",
    "German",
    "Chinese",
    "Japanese",
    "Russian",
    "Portuguese",
    "Arabic",
    "Hindi",
    "Korean",
    "Italian",
)
SWEEP = "Answer the following in {lang}. Be thorough and explain your reasoning.\n\n{task}"
RUBRIC = (
    "You are an expert grader. Grade the answer below from 1 to 10 on correctness, "
    "completeness, clarity and reasoning. Justify each criterion step by step before "
    "giving the final score.\n\nTask: {task}\n\nAnswer: {answer}"
)
OPENERS = (
    "",
    "Please help with this.",
    "Quick question.",
    "Hi!",
    "I'm stuck on this one.",
    "Can you take a look?",
    "Here's a problem for you.",
    "Homework help:",
)
ASKS = (
    "Walk me through your thinking.",
    "Explain your reasoning as you go.",
    "Show how you get there.",
    "Go through it carefully.",
    "Break it down for me.",
    "Reason it out before answering.",
    "Take it one piece at a time.",
    "Be detailed.",
)
CLOSERS = ("", "Thanks!", "Final answer at the end please.", "Keep it clear.")
CHECK = ("Are you sure? Double-check your work.", "Can you verify that answer another way?")


def tasks(ctx: Context, rng: random.Random) -> Iterator[str]:
    """Harvest tasks in a random order, without repeats until the pool is exhausted."""
    pool = list(ctx.pools.harvest)
    while True:
        rng.shuffle(pool)
        yield from pool


def _pipeline(
    acc: Account,
    ctx: Context,
    body: Callable[[random.Random, str], dict[str, Any]],
    gap: Callable[[random.Random], float],
    start: float | None = None,
) -> Behaviour:
    """A machine sweep: one task after another, 24/7, until the cap or a challenge."""
    rng = ctx.rng(acc)
    t = start if start is not None else ctx.start + rng.uniform(0, 0.5) * DAY
    served = 0
    for task in tasks(ctx, rng):
        if served >= acc.planned or t >= ctx.end:
            return
        t, out = yield from ask(t, Request(body(rng, task), harvest=True))
        if out.stopped:
            return
        served += out.served
        t += gap(rng)


def cot_template(acc: Account, ctx: Context) -> Behaviour:
    return _pipeline(
        acc,
        ctx,
        lambda r, task: chat([COT.format(task=task)], max_tokens=4096),
        lambda r: r.uniform(4, 8),
    )


def coverage_sweep(acc: Account, ctx: Context) -> Behaviour:
    def body(r: random.Random, task: str) -> dict[str, Any]:
        return chat([SWEEP.format(lang=r.choice(LANGUAGES), task=task)], max_tokens=2048)

    return _pipeline(acc, ctx, body, lambda r: r.uniform(3, 6))


def rubric_grading(acc: Account, ctx: Context) -> Behaviour:
    def body(r: random.Random, task: str) -> dict[str, Any]:
        answer = f"The answer is {r.randint(2, 999)}."
        return chat([RUBRIC.format(task=task, answer=answer)], max_tokens=1024)

    return _pipeline(acc, ctx, body, lambda r: r.uniform(3, 7))


def logprob_probe(acc: Account, ctx: Context) -> Behaviour:
    def body(r: random.Random, task: str) -> dict[str, Any]:
        return chat([task], max_tokens=16, logprobs=True, top_logprobs=20, temperature=1.0)

    return _pipeline(acc, ctx, body, lambda r: r.uniform(1, 3))


def hydra_member(index: int, size: int, interval: float) -> Callable[[Account, Context], Behaviour]:
    """Member ``index`` of a hydra of ``size``: the task list round-robin, one CoT request
    per member every ``size * interval`` seconds (the hydra sends one every ``interval``)."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = random.Random(acc.behaviour_seed)
        start = ctx.start + 0.25 * DAY + index * interval

        def gap(r: random.Random) -> float:
            return size * interval * r.uniform(0.9, 1.1)

        return _pipeline(
            acc,
            ctx,
            lambda r, task: chat([COT.format(task=task)], max_tokens=4096),
            gap,
            start=start + rng.uniform(0, interval),
        )

    return behaviour


def paraphrase_ask(rng: random.Random, task: str) -> dict[str, Any]:
    """A paraphrased CoT ask (no fixed frame): opener, task, ask phrase, closer."""
    parts = [rng.choice(OPENERS), task, rng.choice(ASKS), rng.choice(CLOSERS)]
    text = "\n\n".join(p for p in parts if p)
    return chat([text], max_tokens=rng.choice((800, 1200, 1600, 2000)))


def paraphrase_member(
    squad: int, period: float, spread: float
) -> Callable[[Account, Context], Behaviour]:
    """A light member of a hydra with no shared template and no shared payment or org:
    paraphrased asks, one per wave; the members of a squad fire within ``spread`` seconds of
    the squad's wave times (shared by the squad: about one wave every ``period`` seconds)."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = random.Random(acc.behaviour_seed)
        waves = random.Random(f"paraphrase-squad-{squad}")  # the same for every member
        source = tasks(ctx, rng)
        t = ctx.start + 0.25 * DAY + waves.uniform(0, period)
        served = 0
        while served < acc.planned and t < ctx.end:
            when = t + rng.uniform(0, spread)
            _, out = yield from ask(when, Request(paraphrase_ask(rng, next(source)), harvest=True))
            if out.stopped:
                return
            served += out.served
            t += period * waves.uniform(0.8, 1.2)

    return behaviour


def low_and_slow(acc: Account, ctx: Context) -> Behaviour:
    """About 25 CoT requests a day at random times, every day of the run."""
    rng = ctx.rng(acc)
    source = tasks(ctx, rng)
    day = ctx.start
    served = 0
    while day < ctx.end and served < acc.planned:
        for when in sorted(rng.uniform(0, DAY) for _ in range(rng.randint(20, 30))):
            _, out = yield from ask(
                day + when,
                Request(chat([COT.format(task=next(source))], max_tokens=4096), harvest=True),
            )
            if out.stopped:
                return
            served += out.served
        day += DAY


def adaptive(acc: Account, ctx: Context) -> Behaviour:
    """Paraphrased templates, human-like timing and hours, fake follow-ups, benign camouflage."""
    rng = ctx.rng(acc)
    source = tasks(ctx, rng)
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, 7, 23)
    served = 0
    while served < acc.planned and t < ctx.end:
        if rng.random() < 0.25:  # camouflage: an ordinary human prompt
            _, out = yield from ask(t, Request(chat([rng.choice(ctx.pools.benign)])))
        else:
            parts = [rng.choice(OPENERS), next(source), rng.choice(ASKS), rng.choice(CLOSERS)]
            text = "\n\n".join(p for p in parts if p)
            turns = [text, rng.choice(CHECK)] if rng.random() < 0.2 else [text]
            body = chat(turns, max_tokens=rng.choice((800, 1200, 1600, 2000)))
            _, out = yield from ask(t, Request(body, harvest=True))
            served += out.served
        if out.stopped:
            return
        t = office(t + human_gap(rng, 25), rng, 7, 23)


STRATEGIES: dict[str, Callable[[Account, Context], Behaviour]] = {
    "cot_template": cot_template,
    "coverage_sweep": coverage_sweep,
    "rubric_grading": rubric_grading,
    "logprob_probe": logprob_probe,
    "low_and_slow": low_and_slow,
    "adaptive": adaptive,
}
