"""Red-team round 9 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-8's write-ups only (not from the detector).

The documents list what the value gate reads: chain-of-thought / rubric wording in the user
turn (and after it, and in a system prompt that changes), sampling parameters, trace schemas,
worked-answer history, and "the other products of distillation" (new items with solutions,
soft labels in words, programs, corrections). Round 9 takes products a distillation operation
buys today that are none of those, and one behavioural lever (a prefix re-sent for the
provider's prompt cache):

* ``quality_rater`` (new): data-curation labels the FineWeb-Edu way: the teacher grades
  passages 0-5 for educational value with a short reason; the labels train a small quality
  classifier that then filters a whole pre-training crawl. The pipeline's grading prompt is
  the account's fixed system prompt; the passage is the whole user turn.
* ``query_gen`` (new): retrieval training data the InPars / E5-synthetic way: a passage in,
  three search queries it answers and one near miss (a hard negative) out: (query, positive,
  negative) triplets for an embedding or reranking model; short answers.
* ``cache_ride`` (new): one worksheet of eight problems re-sent as a fixed prefix (the
  provider's prompt cache bills a repeated prefix at a discount), "solve problem k step by
  step" last: eight traces a worksheet, the topic the same for eight requests.
* ``textbook`` (new): synthetic textbook data the Phi / Cosmopedia way: "write a textbook
  section / blog post / story for <audience> built around this problem": long teaching text
  with the full solution inside, no trace asked for as such.
* ``translate`` (new): multilingual reasoning data: the operator's own solved problems
  (problem and solution, its dataset's) "translated into Spanish"; each account one language.

Every account is its own customer (own /24, no payment, org or device), human-paced sessions
in its own hours (``redteam4_harvest.drive``), until ``planned`` harvest responses.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth
from loadtest.detection.redteam8_text import numbers, slice_of
from loadtest.detection.redteam9_text import (
    AUDIENCES,
    BOOK_ASK,
    GENRES,
    QUERY_ASKS,
    RATER_SYSTEMS,
    SHEET_ASKS,
    SHEET_SIZE,
    SOLUTION,
    TARGETS,
    TRANSLATE_ASK,
    passage,
    worksheet,
)
from loadtest.detection.traffic import Account, Behaviour

BehaviourFn = Callable[[Account, Context], Behaviour]


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def _corpus(ctx: Context) -> list[str]:
    """The operator's documents: every prompt of both pools (a crawl stand-in)."""
    return [*ctx.pools.benign, *ctx.pools.harvest]


def rater_with(in_user: bool = False) -> BehaviourFn:
    """``quality_rater``; ``in_user``: the grading prompt after the passage in the user turn
    instead of the system prompt (an ablation's lever)."""

    def quality_rater(acc: Account, ctx: Context) -> Behaviour:
        """The account's own slice of the corpus, each passage once under the pipeline's fixed
        grading prompt (the system prompt), short answers."""
        rng = random.Random(f"red9-rater-{acc.behaviour_seed}")
        system = RATER_SYSTEMS[nth(acc.name) % len(RATER_SYSTEMS)]
        mine = slice_of(_corpus(ctx), "red9-rater", nth(acc.name), acc.planned)

        def episodes() -> Iterator[Episode]:
            while True:
                for text in mine:
                    if in_user:
                        messages = _user(f"{passage(text)}\n\n{system}")
                    else:
                        messages = [{"role": "system", "content": system}, *_user(passage(text))]
                    yield [(body(messages, max_tokens=rng.choice((150, 200, 256))), True)]

        return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=30, session=(12, 30))

    return quality_rater


quality_rater = rater_with()


def query_gen(acc: Account, ctx: Context) -> Behaviour:
    """The account's own slice of the corpus, each passage once with a paraphrased "three
    queries it answers, one near miss" ask; short answers."""
    rng = random.Random(f"red9-query-{acc.behaviour_seed}")
    mine = slice_of(_corpus(ctx), "red9-query", nth(acc.name), acc.planned)

    def episodes() -> Iterator[Episode]:
        while True:
            for text in mine:
                ask = rng.choice(QUERY_ASKS)
                text = passage(text, 1500)
                both = f"{text}\n\n{ask}" if rng.random() < 0.7 else f"{ask}\n\n{text}"
                yield [(body(_user(both), max_tokens=rng.choice((120, 160, 200))), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=35, session=(10, 25))


def cache_with(in_system: bool = False) -> BehaviourFn:
    """``cache_ride``; ``in_system``: the worksheet as the system prompt (the ask alone in the
    user turn) instead of the user turn's prefix (an ablation's lever)."""

    def cache_ride(acc: Account, ctx: Context) -> Behaviour:
        """Worksheets of ``SHEET_SIZE`` problems from the account's own slice; every problem
        its own single-turn request: the whole worksheet (identical bytes), then the ask."""
        rng = random.Random(f"red9-cache-{acc.behaviour_seed}")
        size = max(SHEET_SIZE, acc.planned)
        mine = slice_of(ctx.pools.harvest, "red9-cache", nth(acc.name), size)

        def episodes() -> Iterator[Episode]:
            while True:
                for i in range(0, len(mine) - SHEET_SIZE + 1, SHEET_SIZE):
                    sheet = worksheet(rng, mine[i : i + SHEET_SIZE])
                    for k in range(1, SHEET_SIZE + 1):
                        ask = rng.choice(SHEET_ASKS).format(k=k)
                        limit = rng.choice((800, 1000, 1200))
                        if in_system:
                            messages = [{"role": "system", "content": sheet}, *_user(ask)]
                        else:
                            messages = _user(f"{sheet}\n\n{ask}")
                        yield [(body(messages, max_tokens=limit), True)]

        return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, session=(8, 24))

    return cache_ride


cache_ride = cache_with()


def textbook(acc: Account, ctx: Context) -> Behaviour:
    """Each task once as the seed of a genre text for an audience; long answers."""
    rng = random.Random(f"red9-book-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            text = rng.choice(BOOK_ASK).format(
                genre=rng.choice(GENRES), audience=rng.choice(AUDIENCES), task=task
            )
            limit = rng.choice((1500, 2000, 2500))
            yield [(body(_user(text), max_tokens=limit, temperature=0.8), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=60, session=(6, 16))


def solution(rng: random.Random, task: str) -> str:
    """The operator's own (dataset) solution of ``task``: a few lines with its numbers."""
    a, b = (int(float(n)) for n in numbers(rng, task)[:2])
    return rng.choice(SOLUTION).format(
        a=a, b=b, s=a + b, d=2 * (a + b), m=a - b, n=2 * a - b, p=a * b
    )


def translate(acc: Account, ctx: Context) -> Behaviour:
    """Each solved task once, into the account's own language."""
    rng = random.Random(f"red9-translate-{acc.behaviour_seed}")
    lang = TARGETS[nth(acc.name) % len(TARGETS)]

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            text = rng.choice(TRANSLATE_ASK).format(
                lang=lang, task=task, solution=solution(rng, task)
            )
            yield [(body(_user(text), max_tokens=rng.choice((600, 800, 1000))), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=45, session=(10, 25))
