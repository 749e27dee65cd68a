"""Red-team round 15 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit and rounds 1-14's write-ups only (not from the detector).

The policy reference lists the harvest-value signals (the step-by-step lexicon in 33
languages, the product lexicon, logprobs / n, maximum output, a changing trace schema,
reasoning effort and summaries, seeded resampling). Round 15 gets a worked answer through
none of them:

* ``verbosity``: the bare task to GPT-5 with its documented ``verbosity: "high"`` (Chat
  Completions; ``text.verbosity`` on the Responses API for odd accounts): the explained,
  long answer is a parameter away, no words, no effort, no summary.
* ``mark_scheme``: the task with "write the mark scheme for this question": an exam board's
  marking guidance is the model solution line by line with a method or accuracy mark on
  each line (M1, A1): a worked trace with its checkpoints labelled.
* ``continue_page``: no ask at all: the task on a textbook page, an answer book or a Q&A
  site's accepted answer, cut off where its solution starts (one frame per account, a short
  "Continue the text." at times): the model completes the worked solution.
* ``pdf_sheet``: the task and the printed instruction "Show all your working. Marks are
  given for correct method." on a one-page PDF (compressed, as every PDF writer makes
  them), sent as a ``file`` part beside a short text ("See attached.").

Every account is its own customer (own /24, no payment, org or device), human-paced in its
own hours (``redteam4_harvest.drive``) until ``planned`` harvest responses; no logprobs,
``n``, seeds, effort, reasoning summary or ``max_tokens``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth
from loadtest.detection.redteam15_text import (
    MARK_ASKS,
    PAGE_CUES,
    PAGES,
    RESPONSES,
    SHEET_ASKS,
    VERBOSE_MODELS,
    mark_scheme,
    page,
    sheet_message,
    verbose_chat,
    verbose_input,
    worksheet,
)
from loadtest.detection.traffic import Account, Behaviour

CHAT_PATH = "/v1/chat/completions"


def verbosity(acc: Account, ctx: Context) -> Behaviour:
    """Each task once, bare, at ``verbosity: high`` (odd accounts on the Responses API)."""
    rng = random.Random(f"red15-verbose-{acc.behaviour_seed}")
    model = rng.choice(VERBOSE_MODELS)
    responses = nth(acc.name) % 2 == 1
    episodes: Iterator[Episode] = (
        [((verbose_input if responses else verbose_chat)(task, model), True)]
        for task in tasks(ctx, rng)
    )
    path = RESPONSES if responses else CHAT_PATH
    return drive(acc, ctx, episodes, turn_gap=0, episode_gap=40, path=path)


def mark_schemes(acc: Account, ctx: Context) -> Behaviour:
    """Each task once with a mark-scheme ask (two of the four wordings per account)."""
    rng = random.Random(f"red15-marks-{acc.behaviour_seed}")
    asks = rng.sample(MARK_ASKS, 2)
    episodes: Iterator[Episode] = (
        [(body([{"role": "user", "content": mark_scheme(task, rng.choice(asks), rng)}]), True)]
        for task in tasks(ctx, rng)
    )
    return drive(acc, ctx, episodes, turn_gap=0, episode_gap=40)


def continue_page(acc: Account, ctx: Context) -> Behaviour:
    """Each task once on the account's page frame, cut where its solution starts."""
    rng = random.Random(f"red15-page-{acc.behaviour_seed}")
    frame = PAGES[nth(acc.name) % len(PAGES)]
    cue = rng.choice(PAGE_CUES)
    episodes: Iterator[Episode] = (
        [(body([{"role": "user", "content": page(task, frame, cue, rng)}]), True)]
        for task in tasks(ctx, rng)
    )
    return drive(acc, ctx, episodes, turn_gap=0, episode_gap=40)


def pdf_sheet(acc: Account, ctx: Context) -> Behaviour:
    """Each task once as a one-question worksheet PDF beside a short text part."""
    rng = random.Random(f"red15-sheet-{acc.behaviour_seed}")
    grade = rng.choice(("Year 7", "Year 8", "Grade 6", "Grade 7"))

    def episodes() -> Iterator[Episode]:
        for n, task in enumerate(tasks(ctx, rng), start=1):
            title = f"{grade} Mathematics - Practice sheet {n}"
            data = worksheet(title, [task])
            message = sheet_message(rng.choice(SHEET_ASKS), data, f"sheet_{n:04d}.pdf")
            yield [(body([message], model="gpt-4.1"), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40)
