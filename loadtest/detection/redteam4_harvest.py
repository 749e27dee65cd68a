"""Red-team round 4 harvest strategies, written from the README, the policy reference, the
shipped policy and the kit's harness only (not from the detector, its docs or its reports).

The public documents say detection acts only when behaviour (two of coverage, templating,
shape, timing) AND a harvest-value signal agree, and name the value signals: chain-of-thought
or rubric wording, ``logprobs`` / ``n>1``, and ``max_tokens`` at the maximum-output mark. So
each strategy below takes the valuable answer (reasoning traces, code, agent trajectories)
while carrying none of those signals where a lexicon or a parameter check would look, and
most of them also leave the single-turn shape:

* ``schema``: the reasoning request lives in a JSON schema (``response_format`` or a forced
  tool call whose parameters are ``steps[]`` and ``final_answer``); the user turn is the bare
  task; no ``max_tokens`` at all (the model's own limit, never the maximum-output mark).
* ``exemplar``: many-shot style transfer: every request carries two or three of the account's
  earlier tasks with the model's own worked answers as history, then the bare new task; the
  model imitates the worked style. Every request is multi-turn; no elicitation words asked.
* ``multilingual``: a plain CoT sweep, but the elicitation is written in the account's own
  language (French, Chinese, Russian ...): an English lexicon does not read it.
* ``socratic``: one task per conversation, pulled out a move at a time ("what's the first
  move?", "ok, and then?", "so what does that give?"): a tutoring session by its shape; only
  the finished trace counts as a harvest response (3-5 requests each).
* ``agent_loop``: agent trajectories, the most valuable data of 2026: a coding-agent system
  prompt with tools, the task, then fabricated tool results (a failing test, then a passing
  one); the last message is a tool result, never a user turn. Each step is a harvest response.
* ``schema_sweep``: ``schema``'s requests at machine pace around the clock, 3,000 per
  account: does anything but the value signal stand between a sweep and the model?
* ``completions``: the legacy ``/v1/completions`` endpoint (every upstream the README names
  serves it: vLLM, TGI, llama.cpp) with the chat rendered by hand into the model's own chat
  template (ChatML or Llama 3), an ordinary English "think step by step" system turn inside;
  detection built around ``messages`` may read a raw prompt differently.
* ``eval_tier``: a distiller who obtained the ``evaluation`` tier by posing as an evaluation
  vendor (the shipped policy audits that tier and never enforces detection on it) and runs a
  blatant CoT sweep at machine pace.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import COT, tasks
from loadtest.detection.pace import chat, human_gap, office
from loadtest.detection.redteam4_text import (
    AGENT_SYSTEM,
    AGENT_TOOLS,
    BEGIN,
    CHAT,
    CONTINUE,
    ELICIT,
    FINISH,
    LEGACY,
    RAW_SYSTEMS,
    RAW_TEMPLATES,
    Episode,
    body,
    nth,
    passing,
    schema_params,
    tool_call,
    worked,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Outcome, Request


def drive(
    acc: Account,
    ctx: Context,
    episodes: Iterator[Episode],
    *,
    turn_gap: float,
    episode_gap: float,
    session: tuple[int, int] = (8, 20),
    path: str = CHAT,
    stack: Mapping[str, str] | None = None,
    seen: Callable[[Outcome], None] | None = None,
) -> Behaviour:
    """Episodes (one request, or a conversation's requests) in sessions of ``session``
    episodes inside the account's own working hours, a person's think time apart, breaks of
    one to four hours between sessions; until ``planned`` harvest responses or a challenge.
    ``stack``: the client headers (default: the account's own installation's); ``seen``:
    told each answer (an episode to come may name a served response)."""
    rng = ctx.rng(acc)
    drawn = client_stack(rng)
    stack = drawn if stack is None else stack
    start = rng.uniform(6, 11)
    end = min(23.9, start + rng.uniform(10, 12))
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, start, end)
    served = 0
    while served < acc.planned and t < ctx.end:
        for _ in range(rng.randint(*session)):
            for i, (payload, harvest) in enumerate(next(episodes)):
                if i:
                    t += human_gap(rng, turn_gap)
                request = Request(payload, harvest=harvest, headers=stack, path=path)
                t, out = yield from ask(t, request)
                if seen is not None:
                    seen(out)
                if out.stopped:
                    return
                served += int(out.served and harvest)
            if served >= acc.planned or t >= ctx.end:
                return
            t += human_gap(rng, episode_gap)
        t = office(t + rng.uniform(1, 4) * HOUR, rng, start, end)


def schema(acc: Account, ctx: Context) -> Behaviour:
    """Bare tasks; the trace is requested by a JSON schema or a forced tool call."""
    rng = random.Random(f"red4-schema-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            lead = rng.choice(("", "", "", "Item:", "Next one.", "Problem:"))
            text = f"{lead}\n\n{task}" if lead else task
            yield [(body([{"role": "user", "content": text}], **schema_params(rng)), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=45)


def schema_sweep(acc: Account, ctx: Context) -> Behaviour:
    """``schema``'s requests 2-6 s apart, 24/7, until ``planned``."""
    rng = random.Random(f"red4-sweep-{acc.behaviour_seed}")
    t = ctx.start + rng.uniform(0, 0.5) * DAY
    served = 0
    for task in tasks(ctx, rng):
        if served >= acc.planned or t >= ctx.end:
            return
        payload = body([{"role": "user", "content": task}], **schema_params(rng))
        t, out = yield from ask(t, Request(payload, harvest=True))
        if out.stopped:
            return
        served += out.served
        t += rng.uniform(2, 6)


def exemplar(acc: Account, ctx: Context) -> Behaviour:
    """Two or three earlier tasks with worked answers as history, then the bare new task."""
    rng = random.Random(f"red4-exemplar-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        done: list[str] = []
        for task in tasks(ctx, rng):
            shots = rng.sample(done[-20:], min(len(done), rng.randint(2, 3)))
            messages: list[dict[str, Any]] = []
            for old in shots:
                messages.append({"role": "user", "content": old})
                messages.append({"role": "assistant", "content": worked(rng, old)})
            lead = rng.choice(("", "", "And this one?\n\n", "Same for this:\n\n", "Next:\n\n"))
            messages.append({"role": "user", "content": f"{lead}{task}"})
            done.append(task)
            yield [(body(messages, model=rng.choice(("gpt-4o", "gpt-4o-mini"))), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=60)


def multilingual(acc: Account, ctx: Context) -> Behaviour:
    """A CoT sweep whose elicitation is in the account's language (a fresh phrasing each
    time), at a brisk pace in long sessions; the answer asked in English half the time."""
    rng = random.Random(f"red4-lang-{acc.behaviour_seed}")
    lang = list(ELICIT)[nth(acc.name) % len(ELICIT)]
    phrasings, in_english = ELICIT[lang]

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            ask_text = rng.choice(phrasings)
            parts = [ask_text, task] if rng.random() < 0.6 else [task, ask_text]
            if rng.random() < 0.5:
                parts.append(in_english)
            yield [(body([{"role": "user", "content": "\n\n".join(parts)}]), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=35, session=(20, 40))


def socratic(acc: Account, ctx: Context) -> Behaviour:
    """Each task pulled out one move at a time over 3-5 turns; the last turn is the finished
    trace (one harvest response per task)."""
    rng = random.Random(f"red4-socratic-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            first = rng.choice(BEGIN).format(task=task)
            turns = [first, *rng.sample(CONTINUE, rng.randint(1, 3)), rng.choice(FINISH)]
            yield [(chat(turns[: i + 1]), i == len(turns) - 1) for i in range(len(turns))]

    return drive(acc, ctx, episodes(), turn_gap=25, episode_gap=90, session=(4, 10))


def agent_loop(acc: Account, ctx: Context) -> Behaviour:
    """A coding agent's loop per task: the task, a tool call and a failing test result, the
    fix and a passing result; every step (the model's next move) is a harvest response."""
    rng = random.Random(f"red4-agent-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for n, task in enumerate(tasks(ctx, rng)):
            history: list[dict[str, Any]] = [
                {"role": "system", "content": AGENT_SYSTEM},
                {"role": "user", "content": task},
            ]
            steps: Episode = [(body(list(history), tools=AGENT_TOOLS), True)]
            for k, result in enumerate(passing(rng)):
                history += tool_call(f"call_{n}_{k}", result)
                steps.append((body(list(history), tools=AGENT_TOOLS), True))
            yield steps

    return drive(acc, ctx, episodes(), turn_gap=8, episode_gap=120, session=(5, 12))


def completions(acc: Account, ctx: Context) -> Behaviour:
    """CoT asks as raw chat-template prompts to the legacy completions endpoint."""
    rng = random.Random(f"red4-completions-{acc.behaviour_seed}")
    template = rng.choice(RAW_TEMPLATES)

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            prompt = template.format(system=rng.choice(RAW_SYSTEMS), task=task)
            payload = {"model": "gpt-4o-mini", "prompt": prompt, "max_tokens": 3000}
            yield [(payload, True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, session=(15, 30), path=LEGACY)


def eval_tier(acc: Account, ctx: Context) -> Behaviour:
    """The textbook CoT sweep at machine pace, 24/7, from an account on the evaluation tier."""
    rng = ctx.rng(acc)
    t = ctx.start + rng.uniform(0, 0.5) * DAY
    served = 0
    for task in tasks(ctx, rng):
        if served >= acc.planned or t >= ctx.end:
            return
        payload = chat([COT.format(task=task)], temperature=0, max_tokens=3000)
        t, out = yield from ask(t, Request(payload, harvest=True))
        if out.stopped:
            return
        served += out.served
        t += rng.uniform(2, 6)
