"""Red-team harvest strategies, written from the README, the policy reference and the gateway's
answers only (not from the detector's code).

What an operator who read those documents does: stay under ``min_requests`` per account or look
like a person (office hours, think time, follow-ups, revisits), keep ``max_tokens`` below the
maximum-output mark, never send one prompt frame from many accounts (every ask is its own
paraphrase, often with the reasoning request in the system prompt, where apps put theirs), give
every account its own /24 and no shared payment, org or device, keep squads' waves seconds
apart (the synchrony window is 2 s), and rotate the client stack and sampling parameters.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import FOLLOW_UPS, chat, human_gap, office
from loadtest.detection.personas import CODE_HINTS
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
SYSTEMS = (
    "You are a senior engineer and teacher. Before any final answer, lay out how you approach "
    "the problem and why, then give the result.",
    "You explain your work the way a good textbook does: each intermediate result on its own "
    "line, then the answer.",
    "Be a careful assistant. Work through problems methodically and show the working.",
    "You are a helpful assistant. Show how you get to your answers.",
    "Answer like an expert tutor would: derivation first, conclusion last.",
)
LEADS = (
    "",
    "hey, got one for you",
    "Quick one:",
    "Can you help me with this?",
    "Working on this right now:",
    "my teammate asked me this and I'm not sure",
    "Here's what I have:",
    "Question from today's session.",
    "Could you take a look at this",
)
ASKS = (
    "",
    "",
    "Show the working.",
    "How would you get there?",
    "Explain as you go.",
    "Walk me through it.",
    "Lay out the approach before the answer.",
    "What are the intermediate results?",
    "I'd like to understand the method, not just the answer.",
    "Talk me through how you'd tackle it.",
)
TAILS = ("", "", "thanks", "Thank you!", "cheers", "Keep it tidy please.", "ty")
CODE_FOLLOW_UPS = (
    "Can you add type hints and a docstring?",
    "What's the complexity of that? Can it be faster?",
    "Write a few pytest tests for it.",
    "What edge cases does this miss?",
    "Could you rewrite it without any imports?",
    "Now the same in TypeScript please.",
    "Explain the tricky line again?",
    "hmm, that fails on an empty input, can you fix it",
)
MODELS = ("gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "gpt-4.1-mini")


def disguise(rng: random.Random, task: str) -> tuple[str | None, str]:
    """(system, user) for one ask: its own wording; half the time the reasoning request sits
    in the system prompt and the user turn is the bare task with a chatty lead."""
    text = task if rng.random() < 0.7 else task[:1].lower() + task[1:]
    if rng.random() < 0.2:
        text = f'"{text}"'
    if rng.random() < 0.5:
        parts = [rng.choice(LEADS), text, rng.choice(TAILS)]
        return rng.choice(SYSTEMS), "\n\n".join(p for p in parts if p)
    ask_text = rng.choice(ASKS)
    if rng.random() < 0.4:
        parts = [rng.choice(LEADS), ask_text, text]
    else:
        parts = [rng.choice(LEADS), text, ask_text, rng.choice(TAILS)]
    return None, "\n\n".join(p for p in parts if p)


def harvest_body(rng: random.Random, task: str, **params: Any) -> dict[str, Any]:
    """A disguised ask with a below-maximum output length (never at ``max_output_tokens``)."""
    system, user = disguise(rng, task)
    params.setdefault("max_tokens", rng.choice((900, 1200, 1500, 2000, 2500, 3000)))
    return chat([user], system=system, **params)


def code_tasks(ctx: Context, rng: random.Random) -> Iterator[str]:
    """Code-like harvest tasks (all harvest tasks when the pool has fewer than 20), shuffled,
    no repeats until the pool is exhausted."""
    code = [t for t in ctx.pools.harvest if any(h in t.lower() for h in CODE_HINTS)]
    pool = code if len(code) >= 20 else list(ctx.pools.harvest)
    while True:
        rng.shuffle(pool)
        yield from pool


def _hours(rng: random.Random) -> tuple[float, float]:
    """An operator's working window (UTC hours), shifted per account like a time zone."""
    start = rng.uniform(5, 11)
    return start, start + rng.uniform(10, 13)


def squad_member(squad: int, period: float) -> BehaviourFn:
    """One light member of an unlinked squad: one disguised ask per squad wave (shared wave
    times; each member fires 10 s to 10 min after the wave, skips some), human hours."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        waves = random.Random(f"red-squad-{squad}")
        start, end = _hours(waves)
        stack = client_stack(rng)
        source = tasks(ctx, rng)
        t = ctx.start + waves.uniform(0, 0.3) * DAY
        served = 0
        while served < acc.planned and t < ctx.end:
            t = office(t, waves, start, min(end, 23.9))
            if rng.random() < 0.75:
                when = t + rng.uniform(10, 600)
                body = harvest_body(rng, next(source))
                _, out = yield from ask(when, Request(body, harvest=True, headers=stack))
                if out.stopped:
                    return
                served += out.served
            t += period * waves.uniform(0.5, 1.5)

    return behaviour


def solo_mimic(acc: Account, ctx: Context) -> Behaviour:
    """A person at a keyboard, by the look of it: code tasks in sessions of one ask and 0-3
    follow-ups (which harvest too), short think time, breaks, office hours, a few revisits."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    start, end = _hours(rng)
    source = code_tasks(ctx, rng)
    asked: list[str] = []
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, start, min(end, 23.9))
    served = 0
    while served < acc.planned and t < ctx.end:
        task = rng.choice(asked) if asked and rng.random() < 0.1 else next(source)
        asked.append(task)
        system, first = disguise(rng, task)
        turns = [first]
        for i in range(1 + rng.choice((0, 1, 1, 2, 3))):
            if i:
                turns.append(rng.choice(CODE_FOLLOW_UPS + FOLLOW_UPS[:8]))
                t += human_gap(rng, 25)
            body = chat(turns, system=system, max_tokens=rng.choice((1200, 1800, 2500)))
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            served += out.served
        t = office(t + human_gap(rng, 90), rng, start, min(end, 23.9))


def drip(acc: Account, ctx: Context) -> Behaviour:
    """One of a thousand throw-away accounts: ``planned`` (< 20) disguised asks in one sitting
    on one day, then never again."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    source = tasks(ctx, rng)
    t = office(ctx.start + rng.uniform(0, max(0.0, ctx.days - 1)) * DAY, rng, 7, 23)
    for _ in range(acc.planned):
        t, out = yield from ask(
            t, Request(harvest_body(rng, next(source)), harvest=True, headers=stack)
        )
        if out.stopped:
            return
        t += human_gap(rng, 60)


def rotator(acc: Account, ctx: Context) -> Behaviour:
    """A sweep whose every request looks like a different client: SDK, version, platform,
    model and sampling parameters drawn afresh; jittered pacing, 18 hours a day."""
    rng = ctx.rng(acc)
    source = tasks(ctx, rng)
    start = rng.uniform(0, 6)
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, start, start + 18)
    served = 0
    while served < acc.planned and t < ctx.end:
        params: dict[str, Any] = {
            "model": rng.choice(MODELS),
            "temperature": round(rng.uniform(0.0, 1.3), 2),
            "max_tokens": rng.randrange(600, 3800, 50),
        }
        if rng.random() < 0.3:
            params["top_p"] = rng.choice((0.8, 0.9, 0.95, 1.0))
        if rng.random() < 0.3:
            params["seed"] = rng.randrange(1 << 31)
        if rng.random() < 0.2:
            params["presence_penalty"] = round(rng.uniform(0, 0.6), 1)
        body = harvest_body(rng, next(source), **params)
        t, out = yield from ask(t, Request(body, harvest=True, headers=client_stack(rng)))
        if out.stopped:
            return
        served += out.served
        t = office(t + rng.uniform(15, 150), rng, start, start + 18)


def camouflage(acc: Account, ctx: Context) -> Behaviour:
    """Half the traffic is an ordinary user's (benign prompts, real multi-turn conversations,
    follow-ups), half disguised harvest asks, interleaved at human pace in office hours."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    start, end = _hours(rng)
    source = tasks(ctx, rng)
    convs = ctx.pools.conversations
    t = office(ctx.start + rng.uniform(0, 0.5) * DAY, rng, start, min(end, 23.9))
    served = 0
    while served < acc.planned and t < ctx.end:
        if rng.random() < 0.5:
            if convs and rng.random() < 0.3:
                turns = list(rng.choice(convs))
            else:
                turns = [rng.choice(ctx.pools.benign)]
                turns += rng.sample(FOLLOW_UPS, rng.choice((0, 0, 1, 2)))
            for i in range(1, len(turns) + 1):
                t, out = yield from ask(t, Request(chat(turns[:i]), headers=stack))
                if out.stopped:
                    return
                t += human_gap(rng, 30)
        else:
            body = harvest_body(rng, next(source))
            t, out = yield from ask(t, Request(body, harvest=True, headers=stack))
            if out.stopped:
                return
            served += out.served
        t = office(t + human_gap(rng, 60), rng, start, min(end, 23.9))
