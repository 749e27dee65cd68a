"""Red-team round 13 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit and rounds 1-12's write-ups only (not from the detector).

The policy reference lists what counts as a harvest-value signal (the lexicon on the last
user turn, logprobs / n, maximum output, a changing trace schema or worked-answer history,
reasoning effort, seeded resampling, the product lexicon). Round 13 takes the trace through
levers outside that list:

* ``summary``: the bare task to a reasoning model through the Responses API
  (``/v1/responses``, which the README lists) as one user message item, with
  ``reasoning.summary: detailed``: the reasoning summary the model returns beside its answer
  is the trace (the only one an o-series model shows); no ask, no reasoning effort.
* ``socratic``: Socratic CoT distillation split by role across one operation's five
  accounts: accounts 0-1 ask only for a problem's sub-questions ("don't solve it"), 2-4
  each ask one sub-question of a problem alone ("only this part for now"); no request asks
  for a solution, the trace is their union (decomposer and sub-question solver data).
* ``think_tool``: the bare task beside an agent framework's fixed catalogue: the published
  ``think`` tool (its description asks for reasoning) and ``final_answer``, ``tool_choice``
  auto: the trace is the ``think`` call's argument (a reasoning model's scratchpad in the
  open); the catalogue never changes and no call is forced.
* ``mcq_elim``: the task as a multiple-choice item with four numbers from its own figures,
  "which is right, and how would someone end up with each other one?": the worked answer
  and three error paths (distractor rationales) without a reasoning or correction word.

Every account is its own customer (own /24, no payment, org or device), human-paced in its
own hours (``redteam4_harvest.drive``) until ``planned`` harvest responses; no logprobs,
``n``, seeds or effort.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth
from loadtest.detection.redteam13_text import (
    AGENT_SYSTEM,
    ANSWER_TOOL,
    ELIMINATE_ASKS,
    PART_LEADS,
    PLAN_ASKS,
    THINK_TOOL,
    mcq,
    options,
    response_items,
    sub_questions,
)
from loadtest.detection.traffic import Account, Behaviour

PLANNERS = 2  # of a socratic operation's accounts, the first ask for sub-questions
SOLVERS = 3  # the next ask one sub-question each


def _user(content: str) -> dict[str, Any]:
    return {"role": "user", "content": content}


def _one(text: str, rng: random.Random) -> Episode:
    return [(body([_user(text)], max_tokens=rng.choice((700, 900, 1100)), temperature=0.7), True)]


def summary(acc: Account, ctx: Context) -> Behaviour:
    """Each task once, bare (a lead at times), to a reasoning model through the Responses
    API with a detailed reasoning summary asked for."""
    rng = random.Random(f"red13-summary-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            limit = rng.choice((1500, 2000, 3000))
            lead = rng.choice(("", "", "", "Problem:", "Next one."))
            text = f"{lead}\n\n{task}" if lead else task
            yield [(response_items(text, max_output_tokens=limit), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, path="/v1/responses")


def socratic_work(ctx: Context, i: int, rng: random.Random) -> Iterator[str]:
    """Account ``i``'s user turns in the operation: planners take alternate problems of the
    operation's shared order; solver ``k`` takes every problem's sub-questions ``k``,
    ``k + 3`` ... (so at most one of a problem)."""
    order = tasks(ctx, random.Random("red13-socratic-order"))
    for n, task in enumerate(order):
        if i < PLANNERS:
            if n % PLANNERS == i:
                yield f"{task}\n\n{rng.choice(PLAN_ASKS)}"
            continue
        for k, sub in enumerate(sub_questions(task, SOLVERS)):
            if (n + k) % SOLVERS == i - PLANNERS:
                yield f"{task}\n\n{rng.choice(PART_LEADS)} {sub}"


def socratic(acc: Account, ctx: Context) -> Behaviour:
    """The account's role in the operation (decomposer or sub-question solver), one
    request per problem."""
    rng = random.Random(f"red13-socratic-{acc.behaviour_seed}")
    turns = socratic_work(ctx, nth(acc.name) % (PLANNERS + SOLVERS), rng)
    return drive(acc, ctx, (_one(t, rng) for t in turns), turn_gap=0, episode_gap=40)


def think_tool(acc: Account, ctx: Context) -> Behaviour:
    """Each task bare beside the ``think`` / ``final_answer`` catalogue (the thought, the
    first call's argument, is what is kept)."""
    rng = random.Random(f"red13-think-{acc.behaviour_seed}")
    tools = [THINK_TOOL, ANSWER_TOOL]

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            messages = [{"role": "system", "content": AGENT_SYSTEM}, _user(task)]
            yield [(body(messages, tools=tools, tool_choice="auto", temperature=0.7), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40)


def mcq_elim(acc: Account, ctx: Context) -> Behaviour:
    """Each task once as a multiple-choice item, with the right option and the path to each
    wrong one asked for."""
    rng = random.Random(f"red13-mcq-{acc.behaviour_seed}")
    turns = (
        f"{mcq(task, options(task, rng))}\n\n{rng.choice(ELIMINATE_ASKS)}"
        for task in tasks(ctx, rng)
    )
    return drive(acc, ctx, (_one(t, rng) for t in turns), turn_gap=0, episode_gap=40)
