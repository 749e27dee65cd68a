"""Red-team round 14 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit and rounds 1-13's write-ups only (not from the detector).

The policy reference says the lexicon reads the last user turn whole, what follows it
(a prefill, tool results) and a system prompt only when it changes. Round 14 puts the
step-by-step ask where none of that is: in the provider's own storage, or before the task.

* ``stored_prompt``: the operator's dashboard prompt (saved once, never sent) holds the
  step-by-step instructions; each request is ``/v1/responses`` with
  ``prompt: {id, version, variables}`` (the grade or subject) and the bare task as input.
* ``chained_ask``: one stored request says "for every problem after this, show all your
  working step by step"; each task then goes bare as the only input with
  ``previous_response_id`` naming that request (a branch off it, never a growing chain); a
  new root every 25-40 tasks.
* ``greeting``: a made-up maths app's history: its fixed system line, then the app's opening
  message as the assistant ("send me any problem and I'll solve it step by step, showing all
  my reasoning"), then the bare task as the user turn.

Every account is its own customer (own /24, no payment, org or device), human-paced in its
own hours (``redteam4_harvest.drive``) until ``planned`` harvest responses; no logprobs,
``n``, seeds, effort or reasoning summary.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body
from loadtest.detection.redteam14_text import (
    CHAIN_SETUPS,
    GREETINGS,
    RESPONSES,
    VARIABLES,
    chained,
    oid,
    prompt_call,
)
from loadtest.detection.traffic import Account, Behaviour, Outcome

ROOT_EVERY = (25, 40)  # tasks a chain's stored root serves before a new one is set up
COACH_SYSTEM = "You are Coach, a friendly assistant in the Numbo app."


def stored_prompt(acc: Account, ctx: Context) -> Behaviour:
    """Each task once, bare, as the input of the account's stored prompt."""
    rng = random.Random(f"red14-prompt-{acc.behaviour_seed}")
    pid, version, variables = oid("pmpt", rng), str(rng.randint(2, 9)), rng.choice(VARIABLES)
    episodes: Iterator[Episode] = (
        [(prompt_call(pid, version, variables, task), True)] for task in tasks(ctx, rng)
    )
    return drive(acc, ctx, episodes, turn_gap=0, episode_gap=40, path=RESPONSES)


def chained_ask(acc: Account, ctx: Context) -> Behaviour:
    """A stored root with the step-by-step ask, then bare tasks each branching off it."""
    rng = random.Random(f"red14-chain-{acc.behaviour_seed}")
    answers: list[Outcome] = []  # the latest answer: the root's id, once it is served

    def episodes() -> Iterator[Episode]:
        work = tasks(ctx, rng)
        while True:
            setup = {"model": "gpt-4.1", "input": rng.choice(CHAIN_SETUPS), "store": True}
            yield [(setup, False)]
            root = answers[-1].response_id if answers else ""
            if not root:
                continue  # the root was not served: set it up again
            for _ in range(rng.randint(*ROOT_EVERY)):
                yield [(chained(next(work), root), True)]

    return drive(
        acc, ctx, episodes(), turn_gap=0, episode_gap=40, path=RESPONSES, seen=answers.append
    )


def greeting(acc: Account, ctx: Context) -> Behaviour:
    """Each task once, bare, after the made-up app's opening line promising the working."""
    rng = random.Random(f"red14-greeting-{acc.behaviour_seed}")
    opening = rng.choice(GREETINGS)

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            messages = [
                {"role": "system", "content": COACH_SYSTEM},
                {"role": "assistant", "content": opening},
                {"role": "user", "content": task},
            ]
            yield [(body(messages, temperature=0.7), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40)


def tuned_name(rng: random.Random) -> str:
    """A fine-tuned model's name as the provider gives it (base, org, suffix, job)."""
    org, suffix = oid("org", rng)[4:16], rng.choice(("steps", "tutor-v2", "solver", "cot3"))
    return f"ft:gpt-4.1-2025-04-14:{org}:{suffix}:{oid('job', rng)[4:12]}"


def tuned_model(acc: Account, ctx: Context) -> Behaviour:
    """Each task once, bare, to the account's own fine-tune that always shows its working."""
    rng = random.Random(f"red14-tuned-{acc.behaviour_seed}")
    model = tuned_name(rng)
    episodes: Iterator[Episode] = (
        [(body([{"role": "user", "content": task}], model=model), True)] for task in tasks(ctx, rng)
    )
    return drive(acc, ctx, episodes, turn_gap=0, episode_gap=40)
