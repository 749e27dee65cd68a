"""Red-team round 16 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit and rounds 1-15's write-ups only (not from the detector).

Since round 15 an ask made once in stored state (``previous_response_id``, a conversation)
reaches the requests that continue it, and a root continued again and again is branched.
Round 16 says the step-by-step ask once and sends bare tasks after it, in shapes that are
not a fan of branches off the account's own root:

* ``rolling_chain``: a stored root with the standing ask, then each task continues the
  answer just served (a growing chain: the account's own chat, every request a follow-up),
  a new root every 6-10 tasks (the stored context, billed as input, stays short).
* ``sibling_root``: every account stores roots with the ask but never continues its own:
  its tasks branch off the latest root a sibling account of the operation stored (the
  upstream takes any id the gateway's key was served); before a sibling has one, a bare task.
* ``streamed_root``: round 14's branches off a stored root, every request streamed
  (``stream: true``): the root's id comes back in the event stream, not a JSON body.
* ``preamble_turn``: no stored state: once a session, a real chat opening (the standing ask,
  answered); then each task as a new chat re-sending that served pair before the bare task
  (Chat Completions; the ask is an earlier user turn, the last user turn is bare).

Every account is its own customer (own /24, no payment, org or device), human-paced in its
own hours (``redteam4_harvest.drive``) until ``planned`` harvest responses; no logprobs,
``n``, seeds, effort, reasoning summary or ``max_tokens``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body
from loadtest.detection.redteam16_text import (
    FIXED_ACK,
    RESPONSES,
    STANDING_ASKS,
    branch,
    lead,
    preamble_chat,
    root,
    streamed,
)
from loadtest.detection.traffic import Account, Behaviour, Outcome

CHAIN_LENGTH = (6, 10)  # tasks a growing chain takes before a new root
ROOT_EVERY = (25, 40)  # tasks a branched root serves before a new one is stored
BehaviourFn = Callable[[Account, Context], Behaviour]


def rolling_chain(acc: Account, ctx: Context) -> Behaviour:
    """A root with the standing ask, then each task continuing the answer just served."""
    rng = random.Random(f"red16-rolling-{acc.behaviour_seed}")
    ask = rng.choice(STANDING_ASKS)
    answers: list[Outcome] = []

    def episodes() -> Iterator[Episode]:
        work = tasks(ctx, rng)
        while True:
            yield [(root(ask), False)]
            for _ in range(rng.randint(*CHAIN_LENGTH)):
                previous = answers[-1].response_id if answers else ""
                if not previous:
                    break  # the last one was not served: a new chain
                yield [(branch(lead(next(work), rng), previous), True)]

    return drive(
        acc, ctx, episodes(), turn_gap=0, episode_gap=40, path=RESPONSES, seen=answers.append
    )


def sibling_member(index: int, roots: dict[int, str]) -> BehaviourFn:
    """Member ``index`` of a ring sharing ``roots`` (member -> its latest served root id):
    it stores roots for the others and branches its tasks off another member's."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = random.Random(f"red16-sibling-{acc.behaviour_seed}")
        ask = rng.choice(STANDING_ASKS)
        answers: list[Outcome] = []

        def borrowed() -> tuple[int, str]:
            """The next member's latest root (round the ring), if any member has one."""
            others = sorted(k for k in roots if k != index)
            after = [k for k in others if k > index] or others
            return (after[0], roots[after[0]]) if after else (-1, "")

        def episodes() -> Iterator[Episode]:
            work = tasks(ctx, rng)
            while True:
                yield [(root(ask), False)]
                if answers and answers[-1].response_id:
                    roots[index] = answers[-1].response_id
                for _ in range(rng.randint(*ROOT_EVERY)):
                    owner, previous = borrowed()
                    if not previous:  # no sibling root yet: a bare warm-up task
                        yield [({"model": "gpt-4.1", "input": next(work)}, False)]
                        continue
                    yield [(branch(lead(next(work), rng), previous), True)]
                    if not answers[-1].served and roots.get(owner) == previous:
                        roots.pop(owner)  # forgotten upstream: wait for its next root

        return drive(
            acc, ctx, episodes(), turn_gap=0, episode_gap=40, path=RESPONSES, seen=answers.append
        )

    return behaviour


def streamed_root(acc: Account, ctx: Context) -> Behaviour:
    """Round 14's branches off a stored root with the standing ask, all streamed."""
    rng = random.Random(f"red16-stream-{acc.behaviour_seed}")
    ask = rng.choice(STANDING_ASKS)
    answers: list[Outcome] = []

    def episodes() -> Iterator[Episode]:
        work = tasks(ctx, rng)
        while True:
            yield [(streamed(root(ask)), False)]
            first = answers[-1].response_id if answers else ""
            if not first:
                continue  # the root's id did not come back: store it again
            for _ in range(rng.randint(*ROOT_EVERY)):
                yield [(streamed(branch(next(work), first)), True)]

    return drive(
        acc, ctx, episodes(), turn_gap=0, episode_gap=40, path=RESPONSES, seen=answers.append
    )


def preamble_turn(acc: Account, ctx: Context) -> Behaviour:
    """Once a session the standing ask, answered; then each task after that served pair."""
    rng = random.Random(f"red16-preamble-{acc.behaviour_seed}")
    ask = rng.choice(STANDING_ASKS)
    answers: list[Outcome] = []

    def episodes() -> Iterator[Episode]:
        work = tasks(ctx, rng)
        while True:
            yield [(body([{"role": "user", "content": ask}]), False)]
            ack = answers[-1].answer if answers and answers[-1].answer else FIXED_ACK
            for _ in range(rng.randint(*ROOT_EVERY)):
                yield [(preamble_chat(ask, ack, next(work), temperature=0.7), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, seen=answers.append)
