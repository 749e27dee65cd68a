"""Red-team round 12 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-11's write-ups only (not from the detector).

The README and the policy reference say action needs a harvest-value signal, and that the
elicitation lexicon reads the last user turn whole (decoded when it holds base64, hex, a
letter cipher or words backwards). Round 12 keeps the worked-answer request one the teacher
reads unchanged, but moves it where a word list is unlikely to reach:

* ``confusable`` (new): each task plain, then a step-by-step ask whose letters are look-alike
  letters of other scripts (Cyrillic / Greek; accounts 0, 2, 4) or whose words carry an
  invisible character (a zero-width space or joiner, a soft hyphen; accounts 1, 3): the page
  and the teacher read "Explain your reasoning step by step"; a byte or token match does not.
* ``fill_form`` (new): the task as a dataset item and a record (JSON or YAML, one per
  account) to fill, whose free-text field names the working neutrally (``audit_trail``,
  ``calc_log`` ...), described by what it holds ("every intermediate figure, one per line,
  with how it is obtained"), no reasoning wording; no ``response_format`` or tools, so no
  schema parameter either: the rationale-field trick of round 4 written as text.
* ``puzzle_digest`` (new): the task with a step-by-step ask, as the "reader puzzle" inside a
  newsletter issue of benign texts (2,400+ characters), then the ask to solve it: the
  turn's text, its topic and its wording are mostly someone else's.
* ``long_tail`` (new): round 4's multilingual sweep in languages of the long tail (Swahili,
  Indonesian, Turkish, Vietnamese, Tagalog; one an account), always "answer in English".

Every account is its own customer (own /24, no payment, org or device); all run in
human-paced sessions in the account's own hours (``redteam4_harvest.drive``) until
``planned`` harvest responses; no ``logprobs``, ``n``, seeds, schemas or maximum output.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth
from loadtest.detection.redteam12_text import (
    FORM_LEADS,
    FORMS,
    INVISIBLE,
    LANGS,
    LONG_TAIL,
    PUZZLE_ASKS,
    STEP_ASKS,
    form,
    homoglyphs,
    invisible,
    newsletter,
    sections,
)
from loadtest.detection.traffic import Account, Behaviour


def _one(text: str, rng: random.Random) -> Episode:
    limit = rng.choice((700, 900, 1100))
    return [(body([_user(text)], max_tokens=limit, temperature=0.7), True)]


def _run(acc: Account, ctx: Context, turns: Iterator[str], rng: random.Random) -> Behaviour:
    episodes = (_one(text, rng) for text in turns)
    return drive(acc, ctx, episodes, turn_gap=0, episode_gap=40, session=(8, 20))


def hide(text: str, rng: random.Random, acc_name: str) -> str:
    """``text`` as the account writes it: look-alike letters (even accounts) or an invisible
    character in every word (odd accounts, one character each)."""
    i = nth(acc_name)
    if i % 2 == 0:
        return homoglyphs(text)
    return invisible(text, rng, INVISIBLE[(i // 2) % len(INVISIBLE)])


def confusable(acc: Account, ctx: Context) -> Behaviour:
    """Each task once, plain, then a step-by-step ask written with look-alike or invisible
    characters; moderate answers."""
    rng = random.Random(f"red12-confusable-{acc.behaviour_seed}")
    turns = (f"{task}\n\n{hide(rng.choice(STEP_ASKS), rng, acc.name)}" for task in tasks(ctx, rng))
    return _run(acc, ctx, turns, rng)


def fill_form(acc: Account, ctx: Context) -> Behaviour:
    """Each task once as a dataset item with the account's record to fill (its working in a
    neutrally named field)."""
    rng = random.Random(f"red12-form-{acc.behaviour_seed}")
    spec = FORMS[nth(acc.name) % len(FORMS)]
    lead = FORM_LEADS[nth(acc.name) % len(FORM_LEADS)]
    turns = (form(task, spec, lead, f"q{rng.randint(10_000, 99_999)}") for task in tasks(ctx, rng))
    return _run(acc, ctx, turns, rng)


def puzzle_digest(acc: Account, ctx: Context) -> Behaviour:
    """Each task once with a step-by-step ask, as the reader puzzle of a newsletter issue of
    benign texts, then the ask to solve the puzzle."""
    rng = random.Random(f"red12-digest-{acc.behaviour_seed}")
    pool = list(ctx.pools.benign)

    def turns() -> Iterator[str]:
        for task in tasks(ctx, rng):
            steps = rng.choice(STEP_ASKS)
            issue = newsletter(rng, sections(rng, pool), f"{task}\n{steps}")
            yield f"{issue}\n\n{rng.choice(PUZZLE_ASKS).format(steps=steps)}"

    return _run(acc, ctx, turns(), rng)


def long_tail(acc: Account, ctx: Context) -> Behaviour:
    """Each task once with a worked-answer ask in the account's long-tail language and
    "answer in English"."""
    rng = random.Random(f"red12-tail-{acc.behaviour_seed}")
    asks, english = LONG_TAIL[LANGS[nth(acc.name) % len(LANGS)]]
    turns = (f"{task}\n\n{rng.choice(asks)} {english}" for task in tasks(ctx, rng))
    return _run(acc, ctx, turns, rng)


def _user(content: str) -> dict[str, Any]:
    return {"role": "user", "content": content}
