"""Red-team round 5 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-4's write-ups only (not from the detector).

Round 4 found the value gate (CoT wording, logprobs / n>1, maximum output) to be the whole
defence against a patient harvester, and that it reads the user's words. Round 5 asks where
else the words can sit, which channels the documents do not list, and how a population of
light accounts is born without forming the "newcomer cohort" the policy now describes:

* ``side_channel``: the bare task is the user's turn; the plain reasoning request sits beside
  it in a ``developer`` message (the role newer OpenAI models take instead of ``system``), in
  a second text part of the user turn (content parts), or in an assistant prefill that starts
  the trace ("Let's think step by step. 1."), one variant per account, brisk sessions.
* ``tool_smuggle``: a pipeline worker's conversation: a constant user turn ("Next item."),
  the model's call of ``next_item`` and the task with its reasoning instructions returned as
  the tool result; the user turn never changes, the content lives in a tool message.
* ``prompt_batch``: the legacy ``/v1/completions`` takes ``prompt`` as a list: eight
  zero-shot CoT prompts ("Q: ... A: Let's think step by step.") per request, a batch API by
  another name; one request, eight traces.
* ``embed_distill``: embedding distillation: a corpus pushed through ``/v1/embeddings`` in
  batches of 64 around the clock (a student embedder is trained on the vectors); the value
  gate has no signal for vectors at all.
* ``critic_loop``: self-refinement data: the bare task, the model's answer, "read it again as
  a strict reviewer", its critique, "now write it again with the fixes" (and a final polish);
  the revised answer, with the critique before it, is the harvest (one per task).
* ``staggered_member``: a hydra of light accounts born one at a time over two weeks (never
  six in four hours: below the cohort size of the newcomer policy), each with its own style,
  hours and client stack and its own slice of the task pool (no two members ever share an
  ask), and fewer requests than ``min_requests``: plain CoT wording, nothing hidden.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import human_gap, office
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth, worked
from loadtest.detection.redteam5_text import (
    CRITIQUE,
    EMBED,
    LEGACY,
    POLISH,
    QUEUE_TOOLS,
    REVIEW,
    REWRITE,
    SIDE_VARIANTS,
    STYLE_ASKS,
    STYLE_CLOSERS,
    STYLE_OPENERS,
    ZERO_SHOT,
    queue_messages,
    side_messages,
    styled,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
BATCH = 8  # prompts per legacy request
EMBED_BATCH = 64  # texts per embeddings request


def side_channel(acc: Account, ctx: Context) -> Behaviour:
    """Bare tasks; the reasoning request in a developer message, a content part or a prefill."""
    rng = random.Random(f"red5-side-{acc.behaviour_seed}")
    variant = SIDE_VARIANTS[nth(acc.name) % len(SIDE_VARIANTS)]

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            yield [(body(side_messages(variant, rng, task), model="gpt-4o"), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=35, session=(20, 40))


def tool_smuggle(acc: Account, ctx: Context) -> Behaviour:
    """A constant user turn; each task and its instructions arrive as a tool result."""
    rng = random.Random(f"red5-queue-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for n, task in enumerate(tasks(ctx, rng)):
            messages = queue_messages(rng, f"item_{nth(acc.name)}_{n}", task)
            yield [(body(messages, tools=QUEUE_TOOLS), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=30, session=(20, 40))


def prompt_batch(acc: Account, ctx: Context) -> Behaviour:
    """Eight zero-shot CoT prompts as one legacy ``prompt`` list per request."""
    rng = random.Random(f"red5-batch-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        source = tasks(ctx, rng)
        while True:
            prompts = [ZERO_SHOT.format(task=next(source)) for _ in range(BATCH)]
            payload = {
                "model": "gpt-3.5-turbo-instruct",
                "prompt": prompts,
                "max_tokens": rng.choice((1200, 1500, 2000)),
                "temperature": 0.7,
            }
            yield [(payload, True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=60, session=(6, 15), path=LEGACY)


def embed_distill(acc: Account, ctx: Context) -> Behaviour:
    """The corpus in batches of 64 texts through ``/v1/embeddings``, 1-4 s apart, 24/7."""
    rng = random.Random(f"red5-embed-{acc.behaviour_seed}")
    corpus = list(ctx.pools.benign) + list(ctx.pools.harvest)
    rng.shuffle(corpus)
    t = ctx.start + rng.uniform(0, 0.5) * DAY
    served = 0
    n = 0
    while served < acc.planned and t < ctx.end:
        batch = [corpus[(n + i) % len(corpus)][:2000] for i in range(EMBED_BATCH)]
        n += EMBED_BATCH
        payload = {"model": "text-embedding-3-large", "input": batch, "encoding_format": "float"}
        t, out = yield from ask(t, Request(payload, harvest=True, path=EMBED))
        if out.stopped:
            return
        served += out.served
        t += rng.uniform(1, 4)


def critic_loop(acc: Account, ctx: Context) -> Behaviour:
    """Answer, critique, rewrite (and sometimes a polish) per task; the last is the harvest."""
    rng = random.Random(f"red5-critic-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            history: list[dict[str, Any]] = [{"role": "user", "content": task}]
            steps: Episode = [(body(list(history)), False)]
            follow = [rng.choice(CRITIQUE), rng.choice(REWRITE)]
            if rng.random() < 0.4:
                follow.append(rng.choice(POLISH))
            replies = [worked(rng, task), rng.choice(REVIEW), worked(rng, task)]
            for i, text in enumerate(follow):
                history += [
                    {"role": "assistant", "content": replies[i]},
                    {"role": "user", "content": text},
                ]
                steps.append((body(list(history)), i == len(follow) - 1))
            yield steps

    return drive(acc, ctx, episodes(), turn_gap=20, episode_gap=60, session=(5, 12))


def staggered_member(index: int, size: int) -> BehaviourFn:
    """Member ``index`` of a hydra of ``size``: born at its own time (members spread evenly
    from day 1.5 to a day before the end; in a run shorter than 6 days, from a quarter in to a
    quarter before the end), its own slice of the task pool, style, hours and
    client stack; ``planned`` asks in one or two sessions, then never again."""

    def member(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        style = (
            rng.choice(STYLE_OPENERS),
            rng.choice(STYLE_ASKS),
            rng.choice(STYLE_CLOSERS),
            rng.random() < 0.5,
        )
        limit = rng.choice((None, 1500, 2500, 3500))
        pool = list(dict.fromkeys(ctx.pools.harvest))  # a task asked twice is one task
        random.Random("red5-hydra-split").shuffle(pool)  # one order for the whole hydra
        mine = [pool[(index * acc.planned + j) % len(pool)] for j in range(acc.planned)]
        lead = min(1.5, ctx.days / 4) * DAY  # 1.5 days; a quarter of a run shorter than 6
        tail = min(1.0, ctx.days / 4) * DAY
        slot = max(0.0, ctx.days * DAY - lead - tail) / max(1, size)
        t = ctx.start + lead + (index + rng.uniform(0, 0.6)) * slot
        hours = (rng.uniform(7, 14), rng.uniform(16, 23.5))
        for k, task in enumerate(mine):
            if t >= ctx.end:
                return
            params = {"max_tokens": limit} if limit else {}
            payload = body([{"role": "user", "content": styled(style, task)}], **params)
            t, out = yield from ask(t, Request(payload, harvest=True, headers=stack))
            if out.stopped:
                return
            t += human_gap(rng, 70)
            if k == len(mine) // 2 and rng.random() < 0.5:  # a second session, later
                t = office(t + rng.uniform(3, 20) * 3600.0, rng, *hours)

    return member
