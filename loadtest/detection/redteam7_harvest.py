"""Red-team round 7 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-6's write-ups only (not from the detector).

Round 6 showed the value gate is a list of ways to ask for a reasoning trace. Round 7 takes
three more products of distillation that are not traces asked for in words, and three new
variations of the hard patterns the product's issue names:

* ``pairwise_pref`` (new): preference labels for a reward model or DPO (RLAIF): the task and
  two candidate replies (the student's samples), "which is better? A or B, one sentence";
  an answer of a few tokens, one label a request.
* ``tool_calls`` (new): function-calling data (the APIGen way): the bare task beside a
  synthetic API catalogue with a calculator in it, ``tool_choice: auto``; the model's call
  carries the arithmetic (the reasoning as a tool argument); 40 % also send the tool result
  back for the final answer.
* ``next_step`` (new): the teacher as a step policy (process-supervision data): single-turn
  requests "problem, worked out so far, what is the next line?" at ``max_tokens`` 48-96, one
  per step, then "the final answer?": every (state, next step) pair of a trace, each in its
  own request, no history, no reasoning wording.
* ``relay_member`` (variation of unlinked squads at human pace): a squad whose conversations
  are relayed: turn one of a task (a plain step-by-step ask, paraphrased, cut at 300-500
  tokens) is sent
  by one member, "go on" with that piece as history by the next, "finish it off" by the third;
  no member holds a whole trace, two requests in three are follow-ups, no shared template,
  address or client stack.
* ``revisit_cover`` (variation of solo human-mimics and camouflage): plain step-by-step asks,
  and the cover traffic is the harvest itself: follow-ups on the trace just received and,
  before every other new task, a new chat revisiting an earlier one ("I tried this again and
  got 41, is that right?"): the account's novelty flattens and its shape is a student's,
  while every cover request also fetches a second trace.
* ``drip_member`` (variation of slow drips): throw-away accounts born eight at a time, each
  asking 30 plain step-by-step asks, paraphrased (under ``min_requests``) from its own slice of the
  pool, every ask as the second turn after a chatty opener ("hi" / "Of course! ..."): never
  single-turn, ``max_tokens`` under the newcomer policy's 800.

The three variations keep the value signal on purpose (step-by-step wording, the kind a
chain-of-thought lexicon reads, paraphrased per request so that no frame is shared): they test
the behavioural defences named in the documents (shape, cohorts, newcomers, synchrony), not
the lexicon. Every account is its own customer (own /24, own client stack, no payment, org or
device).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import chat, human_gap, office
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, worked
from loadtest.detection.redteam6_text import wrong_solution
from loadtest.detection.redteam7_text import (
    FINAL,
    MATH_FOLLOW,
    NEXT,
    NOTHING,
    OPENER_REPLIES,
    OPENERS,
    PLAIN_REPLIES,
    PREFER,
    RELAY_FINISH,
    RELAY_NEXT,
    RELAY_PIECE,
    REVISIT,
    TOOL_LEADS,
    cot_ask,
    expression,
    steps,
    tool_catalogue,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
DRIP_BATCH = 8  # throw-away accounts born together
RELAY_SESSION = 20  # tasks between the relay squad's breaks


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def _candidate(rng: random.Random, task: str) -> str:
    """One of the student's replies: a worked one, one with a slip, or a bare number."""
    u = rng.random()
    if u < 0.4:
        return worked(rng, task)
    if u < 0.7:
        return wrong_solution(rng, task)
    return rng.choice(PLAIN_REPLIES).format(n=rng.randint(2, 900))


def pairwise_pref(acc: Account, ctx: Context) -> Behaviour:
    """The task and two candidate replies: "A or B?"; a preference label a request."""
    rng = random.Random(f"red7-pref-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            a, b = _candidate(rng, task), _candidate(rng, task)
            text = rng.choice(PREFER).format(task=task, a=a, b=b)
            params = {"max_tokens": rng.choice((16, 40, 60)), "temperature": 0}
            yield [(body(_user(text), **params), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=25, session=(20, 40))


def tool_calls(acc: Account, ctx: Context) -> Behaviour:
    """The bare task beside an API catalogue with a calculator; at times the result back."""
    rng = random.Random(f"red7-tools-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for n, task in enumerate(tasks(ctx, rng)):
            tools, name, arg = tool_catalogue(rng)
            lead = rng.choice(TOOL_LEADS)
            first = _user(f"{lead}\n\n{task}" if lead else task)
            steps_: Episode = [(body(list(first), tools=tools, tool_choice="auto"), True)]
            if rng.random() < 0.4:
                call_id = f"call_{acc.behaviour_seed % 10_000:04d}{n:05d}"
                call = {"name": name, "arguments": json.dumps({arg: expression(rng, task)})}
                history = [
                    *first,
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": call_id, "type": "function", "function": call}],
                    },
                    {"role": "tool", "tool_call_id": call_id, "content": str(rng.randint(2, 900))},
                ]
                steps_.append((body(history, tools=tools, tool_choice="auto"), False))
            yield steps_

    return drive(acc, ctx, episodes(), turn_gap=3, episode_gap=35, session=(15, 30))


def next_step(acc: Account, ctx: Context) -> Behaviour:
    """One single-turn request per step of a trace ("worked out so far ... next line?"),
    then the final answer (the harvest, once per task)."""
    rng = random.Random(f"red7-step-{acc.behaviour_seed}")
    variant = rng.randrange(len(NEXT))
    limit = rng.choice((48, 64, 96))

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            lines = steps(rng, task)
            out: Episode = []
            for i in range(len(lines) + 1):
                known = "\n".join(lines[:i]) or NOTHING
                text = (NEXT if i < len(lines) else FINAL)[variant].format(task=task, known=known)
                out.append((body(_user(text), max_tokens=limit, temperature=0), i == len(lines)))
            yield out

    return drive(acc, ctx, episodes(), turn_gap=5, episode_gap=40, session=(8, 16))


def _relay_turn(
    opening: tuple[str | None, str], follows: tuple[str, str], j: int, limit: int
) -> dict[str, Any]:
    """Turn ``j`` (0-2) of a relayed conversation: the opening ask, then the pieces so far
    with "go on" and "finish it off" after them."""
    system, user = opening
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    for i in range(j):
        messages += [
            {"role": "assistant", "content": RELAY_PIECE[i]},
            {"role": "user", "content": follows[i]},
        ]
    return body(messages, max_tokens=limit)


def relay_member(index: int, size: int) -> BehaviourFn:
    """Member ``index`` of a relay squad of ``size``: the squad's shared plan (the same for
    every member) sends turn ``j`` of task ``k`` from member ``(k + j) % size``; each member
    takes its own turns at the plan's times, with its own client stack."""

    def member(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        plan = random.Random(f"red7-relay-{size}")
        total = acc.planned * size
        t = office(ctx.start + plan.uniform(0.2, 0.4) * DAY, plan, 8.0, 20.0)
        mine: list[tuple[float, dict[str, Any], bool]] = []
        for k, task in zip(range(total), tasks(ctx, plan), strict=False):
            if k and k % RELAY_SESSION == 0:
                t += plan.uniform(1, 3) * HOUR  # the squad's break
            t = office(t, plan, 8.0, 20.0)
            opening = (None, cot_ask(plan, task))
            follows = (plan.choice(RELAY_NEXT), plan.choice(RELAY_FINISH))
            limit = plan.choice((300, 400, 500))
            for j in range(3):
                payload = _relay_turn(opening, follows, j, limit)
                if (k + j) % size == index:
                    mine.append((t, payload, j == 2))
                t += human_gap(plan, 40)
            t += human_gap(plan, 60)
        now = ctx.start
        for when, payload, harvest in mine:
            now = max(now, when)
            if now >= ctx.end:
                return
            now, out = yield from ask(now, Request(payload, harvest=harvest, headers=stack))
            if out.stopped:
                return

    return member


def revisit_cover(acc: Account, ctx: Context) -> Behaviour:
    """New tasks as step-by-step asks with follow-ups; before every other new task a
    new chat revisiting an earlier one (cover that is a second trace, not harvest)."""
    rng = random.Random(f"red7-revisit-{acc.behaviour_seed}")
    limit = rng.choice((900, 1200, 1500, 2000))

    def episodes() -> Iterator[Episode]:
        done: list[str] = []
        for task in tasks(ctx, rng):
            if done and rng.random() < 0.5:
                old = rng.choice(done[-40:])
                text = rng.choice(REVISIT).format(task=old, n=rng.randint(2, 500))
                yield [(chat([text], max_tokens=limit), False)]
            turns = [cot_ask(rng, task), *rng.sample(MATH_FOLLOW, rng.choice((0, 0, 1, 2)))]
            yield [(chat(turns[: i + 1], max_tokens=limit), i == 0) for i in range(len(turns))]
            done.append(task)

    return drive(acc, ctx, episodes(), turn_gap=40, episode_gap=60, session=(6, 14))


def drip_member(index: int, opener: bool = True, max_tokens: int | None = None) -> BehaviourFn:
    """Throw-away account ``index``: born with its batch of ``DRIP_BATCH`` (a batch every
    half day from day 1.5, or a quarter into a short run), ``planned`` step-by-step asks
    from its own slice of the pool, each as the second turn after a chatty opener.

    ``opener=False`` sends each ask alone and ``max_tokens`` replaces the drawn limit (the
    ablation, ``loadtest.redteam7_ablation``: the same births, asks and random stream)."""

    def member(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        pool = list(dict.fromkeys(ctx.pools.harvest))
        random.Random("red7-drip-split").shuffle(pool)
        mine = [pool[(index * acc.planned + j) % len(pool)] for j in range(acc.planned)]
        lead = min(1.5, ctx.days / 4) * DAY
        t = ctx.start + lead + (index // DRIP_BATCH) * 0.5 * DAY + rng.uniform(0, 1.5) * HOUR
        drawn = rng.choice((500, 600, 700, 780))
        limit = drawn if max_tokens is None else max_tokens
        for task in mine:
            if t >= ctx.end:
                return
            messages: list[dict[str, Any]] = []
            if opener:
                messages += [
                    {"role": "user", "content": rng.choice(OPENERS)},
                    {"role": "assistant", "content": rng.choice(OPENER_REPLIES)},
                ]
            messages.append({"role": "user", "content": cot_ask(rng, task)})
            payload = body(messages, max_tokens=limit)
            t, out = yield from ask(t, Request(payload, harvest=True, headers=stack))
            if out.stopped:
                return
            t += rng.uniform(12, 45)

    return member
