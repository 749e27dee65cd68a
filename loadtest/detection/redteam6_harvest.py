"""Red-team round 6 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-5's write-ups only (not from the detector).

The documents name the harvest-value signals the defence needs before it acts (CoT / rubric
wording, logprobs or n>1, maximum output, a changing trace schema or worked-answer history,
reasoning effort, seeded resampling) and one discount (``reasoning_min_tokens``: CoT wording
in a request with ``max_tokens`` under 256 counts in proportion). Round 6 takes what a
distillation operation values today without those signals, one idea per strategy:

* ``self_instruct``: synthetic data the Evol-Instruct way: a seed task in, "write k harder
  variants, each with its full solution" out; one request, three to five new tasks with
  worked solutions (the data the student is trained on), no reasoning wording.
* ``verbal_logits``: soft labels without ``logprobs``: "list your k most likely answers with
  a probability each"; knowledge distillation's targets, stated in words.
* ``program_trace``: program-of-thought: the task translated into a commented Python program
  that prints the answer; the reasoning is the code, one comment a line.
* ``error_hunt``: a fabricated worked solution with one planted slip: "where is the mistake?
  write the correct solution"; corrected traces and error localisation (process-reward data).
* ``image_task``: the task as a picture (a CDN URL or an inline PNG), the text part one of a
  few short asks ("Solve the problem in the picture."): nothing of the task is text.
* ``chunked_continue``: the reasoning ask with ``max_tokens`` under 256 and then "continue"
  turns, the answer so far as history, until the trace is whole; the documented discount
  reads each piece as too short to hold a trace.

Every account is its own customer (own /24, own client stack, no payment, org or device),
human-paced sessions in its own hours (``redteam4_harvest.drive``), until ``planned``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body
from loadtest.detection.redteam6_text import (
    CONTINUE,
    EVOLVE,
    FIRST_ASK,
    HUNT,
    IMAGE_ASKS,
    LANG_HINTS,
    PIECE,
    PROGRAM,
    VERBAL,
    image_part,
    wrong_solution,
)
from loadtest.detection.traffic import Account, Behaviour

IMAGE_FOLLOW = (
    "thanks, how would I check that?",
    "why that method?",
    "ok got it",
    "can you say the last step again?",
)


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def self_instruct(acc: Account, ctx: Context) -> Behaviour:
    """A seed task, "k harder variants with full solutions"; k new worked tasks a request."""
    rng = random.Random(f"red6-evolve-{acc.behaviour_seed}")
    limit = rng.choice((None, 2500, 3000, 3500))
    params: dict[str, Any] = {"max_tokens": limit} if limit else {}

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            text = rng.choice(EVOLVE).format(task=task, k=rng.choice((3, 4, 5)))
            yield [(body(_user(text), model="gpt-4o", **params), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=50, session=(10, 25))


def verbal_logits(acc: Account, ctx: Context) -> Behaviour:
    """Soft labels in words: "your k most likely answers with a probability each"."""
    rng = random.Random(f"red6-verbal-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            text = rng.choice(VERBAL).format(task=task, k=rng.choice((3, 4, 5)))
            yield [(body(_user(text), temperature=rng.choice((0.0, 0.3, 1.0))), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=30, session=(15, 35))


def program_trace(acc: Account, ctx: Context) -> Behaviour:
    """The task as a commented Python program that prints the answer (program of thought)."""
    rng = random.Random(f"red6-program-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            text = rng.choice(PROGRAM).format(task=task)
            if rng.random() < 0.3:
                text += f"\n({rng.choice(LANG_HINTS)})"
            yield [(body(_user(text), model="gpt-4o", temperature=0.2), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, session=(12, 30))


def error_hunt(acc: Account, ctx: Context) -> Behaviour:
    """A worked solution with one planted slip: find it, then the corrected solution."""
    rng = random.Random(f"red6-hunt-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            text = rng.choice(HUNT).format(task=task, wrong=wrong_solution(rng, task))
            yield [(body(_user(text)), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, session=(12, 30))


def image_task(acc: Account, ctx: Context) -> Behaviour:
    """The task as a picture; the text part one of five short asks; a follow-up at times."""
    rng = random.Random(f"red6-image-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            content = [{"type": "text", "text": rng.choice(IMAGE_ASKS)}, image_part(rng, task)]
            first: list[dict[str, Any]] = [{"role": "user", "content": content}]
            steps: Episode = [(body(first, model="gpt-4o"), True)]
            if rng.random() < 0.25:
                history = [
                    *first,
                    {"role": "assistant", "content": wrong_solution(rng, task)},
                    {"role": "user", "content": rng.choice(IMAGE_FOLLOW)},
                ]
                steps.append((body(history, model="gpt-4o"), False))
            yield steps

    return drive(acc, ctx, episodes(), turn_gap=30, episode_gap=40, session=(12, 30))


def chunked_continue(acc: Account, ctx: Context) -> Behaviour:
    """The reasoning ask at ``max_tokens`` under 256, then "continue" turns with the answer
    so far as history (2-4 pieces more); the last piece completes the trace (the harvest)."""
    rng = random.Random(f"red6-chunk-{acc.behaviour_seed}")
    limit = rng.choice((150, 180, 200, 240))

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            history = _user(rng.choice(FIRST_ASK).format(task=task))
            steps: Episode = [(body(list(history), max_tokens=limit), False)]
            pieces = rng.randint(2, 4)
            for i in range(pieces):
                history += [
                    {"role": "assistant", "content": PIECE[i % len(PIECE)]},
                    {"role": "user", "content": rng.choice(CONTINUE)},
                ]
                steps.append((body(list(history), max_tokens=limit), i == pieces - 1))
            yield steps

    return drive(acc, ctx, episodes(), turn_gap=4, episode_gap=40, session=(8, 20))
