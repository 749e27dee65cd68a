"""Red-team round 5 benign look-alikes: honest customers with the surface of round 5's
strategies, which a defence that closed those holes naively would hurt.

* ``consumer_app``: a consumer assistant app ("Lumi") with many end users behind one key:
  its server sends a ``developer`` message (with "explain step by step" for homework) and
  every user turn as content parts; chit-chat, questions and students' homework problems,
  follow-ups, around the clock (users in several time zones).
* ``search_indexer``: a company's search: its own documents pushed through
  ``/v1/embeddings`` in batches of 96 every night at machine pace, and retrieval-augmented
  questions over them by day.
* ``research_student``: a university lab course: a workshop's students sign up in the same
  hour (light accounts born together), each runs the lab's notebook (the same 30 benchmark
  tasks with "Let's think step by step", a loop a few seconds apart), then a few own asks.
* ``writing_coach``: an edtech platform's essay feedback: a student's draft, feedback,
  "which paragraph is weakest?", "rewrite that paragraph", "better now?"; school evenings.
* ``batch_eval``: a company's nightly regression suites through the legacy completions
  endpoint, ``prompt`` lists of 20 (its own intents, and its maths feature's fixed tasks in
  zero-shot CoT form), temperature 0, two models.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import ASSISTANT_STUB, FOLLOW_UPS, chat, human_gap
from loadtest.detection.redteam5_text import (
    COACH_FIRST,
    COACH_NEXT,
    COACH_SYSTEM,
    EMBED,
    EVAL_INTENT,
    LEGACY,
    LUMI_DEV,
    LUMI_HOMEWORK,
    RAG,
    ZERO_SHOT,
    parts,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]


def _lumi(turns: list[str]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "developer", "content": LUMI_DEV}]
    for i, text in enumerate(turns):
        if i:
            messages.append({"role": "assistant", "content": ASSISTANT_STUB})
        messages.append({"role": "user", "content": parts(text)})
    return {"model": "gpt-4o-mini", "messages": messages, "max_tokens": 800}


def consumer_app(acc: Account, ctx: Context) -> Behaviour:
    """End users' conversations (30 % homework) through the app's server, 24/7, five days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(40, int(180 * ctx.scale))
    t = ctx.start + rng.uniform(0, 0.3) * DAY
    end = min(ctx.end, t + 5 * DAY)
    while t < end:
        if rng.random() < 0.3:
            lead = rng.choice(LUMI_HOMEWORK)
            problem = rng.choice(ctx.pools.harvest)
            turns = [f"{lead}\n{problem}" if lead else problem]
            turns += rng.sample(FOLLOW_UPS, rng.choice((0, 1)))
        else:
            turns = [rng.choice(ctx.pools.benign)]
            turns += rng.sample(FOLLOW_UPS, rng.choice((0, 0, 1, 2)))
        for i in range(1, len(turns) + 1):
            t, _ = yield from ask(t, Request(_lumi(turns[:i]), headers=stack))
            t += human_gap(rng, 40)
        t += rng.expovariate(per_day / DAY)


def search_indexer(acc: Account, ctx: Context) -> Behaviour:
    """Nightly embedding batches of the company's documents; RAG questions by day."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    docs = list(ctx.pools.benign)
    rng.shuffle(docs)
    batches = max(20, int(120 * ctx.scale))
    questions = max(10, int(40 * ctx.scale))
    n = 0
    for day in range(min(5, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(1, 2) * HOUR
        for _ in range(batches):  # re-index: every document, chunked
            chunk = [docs[(n + i) % len(docs)][:1500] for i in range(96)]
            n += 96
            payload = {"model": "text-embedding-3-small", "input": chunk}
            t, _ = yield from ask(t, Request(payload, headers=stack, path=EMBED))
            t += rng.uniform(0.5, 2.0)
        t = ctx.start + day * DAY + rng.uniform(9, 10) * HOUR
        for _ in range(questions):
            doc = rng.choice(docs)[:1500]
            text = RAG.format(doc=doc, q=rng.choice(FOLLOW_UPS))
            t, _ = yield from ask(t, Request(chat([text], max_tokens=500), headers=stack))
            t += rng.expovariate(questions / (8 * HOUR))


def research_student(group: int) -> BehaviourFn:
    """A student of workshop ``group``: signs up with the others in the same hour, runs the
    lab's tasks (30) with zero-shot CoT in a notebook loop, then a few own questions."""

    def student(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        size = max(8, int(30 * ctx.scale))
        lab = random.Random(f"red5-lab-{group}").sample(list(ctx.pools.harvest), size)
        day = min(ctx.days - 1.0, 1.6 + 3.0 * group)
        t = ctx.start + day * DAY + 14 * HOUR + rng.uniform(0, 50 * 60)
        temperature = rng.choice((0.0, 0.0, 0.7))
        for task in lab:
            payload = chat([ZERO_SHOT.format(task=task)], max_tokens=1024, temperature=temperature)
            t, _ = yield from ask(t, Request(payload, headers=stack))
            t += rng.uniform(3, 15)
        t += rng.uniform(1, 3) * DAY
        for _ in range(rng.randint(0, 10)):
            if t >= ctx.end:
                return
            turns = [rng.choice(ctx.pools.benign), *rng.sample(FOLLOW_UPS, rng.choice((0, 1)))]
            for i in range(1, len(turns) + 1):
                t, _ = yield from ask(t, Request(chat(turns[:i]), headers=stack))
                t += human_gap(rng, 60)
            t += rng.uniform(2, 30) * HOUR

    return student


def writing_coach(acc: Account, ctx: Context) -> Behaviour:
    """Students' drafts with 2-5 feedback turns, 16-21 h, school days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    drafts = [p for p in ctx.pools.benign if len(p) > 200] or list(ctx.pools.benign)
    per_day = max(10, int(30 * ctx.scale))
    for day in range(int(ctx.days)):
        if day % 7 >= 5:
            continue
        t = ctx.start + day * DAY + rng.uniform(16, 17) * HOUR
        for _ in range(per_day):
            first = rng.choice(COACH_FIRST).format(doc=rng.choice(drafts)[:2500])
            turns = [first, *rng.sample(COACH_NEXT, rng.randint(1, 4))]
            for i in range(1, len(turns) + 1):
                payload = chat(turns[:i], system=COACH_SYSTEM)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 90)
            t += rng.expovariate(per_day / (5 * HOUR))


def batch_eval(acc: Account, ctx: Context) -> Behaviour:
    """Nightly suites as legacy prompt lists of 20: intents, and maths in zero-shot CoT."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    size = max(40, int(200 * ctx.scale))
    intents = rng.sample(list(ctx.pools.benign), min(size, len(ctx.pools.benign)))
    maths = rng.sample(list(ctx.pools.harvest), size)
    suites = (
        [EVAL_INTENT.format(q=q[:600]) for q in intents],
        [ZERO_SHOT.format(task=q) for q in maths],
    )
    for day in range(min(7, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(2.5, 3.5) * HOUR
        for model in ("gpt-3.5-turbo-instruct", "davinci-002"):
            for suite in suites:
                for i in range(0, len(suite), 20):
                    payload = {
                        "model": model,
                        "prompt": suite[i : i + 20],
                        "max_tokens": 256,
                        "temperature": 0,
                    }
                    t, _ = yield from ask(t, Request(payload, headers=stack, path=LEGACY))
                    t += rng.uniform(0.5, 2.0)
