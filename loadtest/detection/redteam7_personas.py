"""Red-team round 7 benign look-alikes: honest products with the surface of round 7's
strategies, which a defence that closed those holes naively would hurt.

* ``ab_judge``: a product team's nightly A/B test of its assistant: each of the day's user
  messages (and a fixed regression set, the same every night) with two candidate replies,
  "which reply is better?", "A" or "B" and a sentence; machine pace at night, five nights;
  the surface of ``pairwise_pref``.
* ``tool_assistant``: a personal assistant app ("Pocket") with one fixed tool catalogue
  (calculator, weather, units, reminders, calendar) on every request; its users' messages,
  homework arithmetic among them (popular problems asked again and again), the tool result
  sent back, follow-ups; 8-23 h, a week; the surface of ``tool_calls``.
* ``hint_button``: a maths practice app's hint button: the problem (a textbook set, popular
  pages again and again), the student's working so far, "what should I do next?", a short
  hint (``max_tokens`` 80), pressed one to three times as the working grows; school evenings,
  weekends from 10 h; the surface of ``next_step``.
* ``handoff_member``: a freelance support desk's agents (each their own key and home
  address): a customer thread is answered by whoever is on shift, with the thread as
  history, so its turns come from different accounts; shifts cover 7-23 h on working days;
  the surface of ``relay_member``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, chat, human_gap, zipf_pick
from loadtest.detection.redteam7_text import (
    ASSISTANT_SYSTEM,
    ASSISTANT_TOOLS,
    DESK_DRAFT,
    DESK_NEXT,
    DESK_SYSTEM,
    HINT_ASK,
    HINT_SYSTEM,
    JUDGE_ASK,
    JUDGE_REPLIES,
    JUDGE_SYSTEM,
    expression,
    steps,
    tool,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
DESK_OPEN, DESK_CLOSE = 7.0, 23.0


def ab_judge(acc: Account, ctx: Context) -> Behaviour:
    """Every night 01-03 h: the regression set and the day's messages, two replies each."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_night = max(40, int(300 * ctx.scale))
    regression = rng.sample(list(ctx.pools.benign), min(per_night // 2, len(ctx.pools.benign)))
    for night in range(min(5, int(ctx.days))):
        t = ctx.start + night * DAY + rng.uniform(1, 1.5) * HOUR
        todays = [rng.choice(ctx.pools.benign) for _ in range(per_night - len(regression))]
        for q in [*regression, *todays]:
            a, b = rng.sample(JUDGE_REPLIES, 2)
            text = JUDGE_ASK.format(q=q[:1500], a=a, b=b)
            payload = chat([text], system=JUDGE_SYSTEM, max_tokens=60, temperature=0)
            t, _ = yield from ask(t, Request(payload, headers=stack))
            t += rng.uniform(1, 3)


def _assistant_call(
    rng: random.Random, first: list[dict[str, Any]], n: int, task: str | None
) -> list[dict[str, Any]]:
    call_id = f"call_{n:06d}"
    if task is not None:
        fn = {"name": "calculate", "arguments": f'{{"expression": "{expression(rng, task)}"}}'}
        result = str(rng.randint(2, 900))
    else:
        fn = {"name": "get_weather", "arguments": '{"city": "Lyon", "unit": "celsius"}'}
        result = '{"temp": 14, "sky": "cloudy"}'
    return [
        *first,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": fn}],
        },
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]


def tool_assistant(acc: Account, ctx: Context) -> Behaviour:
    """Pocket's users, 8-23 h, seven days: the fixed tools on every request; homework
    arithmetic (popular problems) goes through the calculator and back."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    tools = [tool(n, d, p) for n, d, p in ASSISTANT_TOOLS]
    system = {"role": "system", "content": ASSISTANT_SYSTEM}
    per_day = max(20, int(150 * ctx.scale))
    homework = rng.sample(list(ctx.pools.harvest), min(200, len(ctx.pools.harvest)))
    n = 0
    for day in range(min(7, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(8, 8.5) * HOUR
        for _ in range(per_day):
            maths = rng.random() < 0.3
            task = zipf_pick(rng, homework) if maths else None
            text = task if task is not None else rng.choice(ctx.pools.benign)[:1000]
            first = [system, {"role": "user", "content": text}]
            conversation = [first]
            if maths or rng.random() < 0.2:
                conversation.append(_assistant_call(rng, first, n, task))
            if rng.random() < 0.2:
                follow = [*conversation[-1], {"role": "assistant", "content": "Done."}]
                conversation.append([*follow, {"role": "user", "content": rng.choice(FOLLOW_UPS)}])
            for messages in conversation:
                payload = {"model": "gpt-4o-mini", "messages": messages, "tools": tools}
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 8 if messages[-1]["role"] == "tool" else 40)
            n += 1
            t += rng.expovariate(per_day / (15 * HOUR))


def hint_button(acc: Account, ctx: Context) -> Behaviour:
    """Hints on a textbook's problems as the student's working grows; evenings (weekends
    from 10 h), ten days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(15, int(80 * ctx.scale))
    book = rng.sample(list(ctx.pools.harvest), min(250, len(ctx.pools.harvest)))
    for day in range(min(10, int(ctx.days))):
        weekend = day % 7 >= 5
        open_at, hours = (10.0, 8.0) if weekend else (16.0, 5.0)
        t = ctx.start + day * DAY + (open_at + rng.uniform(0, 1)) * HOUR
        for _ in range(per_day):
            task = zipf_pick(rng, book)
            lines = steps(rng, task)
            for i in range(rng.randint(1, 3)):
                known = "\n".join(lines[:i]) or "(nothing yet)"
                text = HINT_ASK.format(task=task, known=known)
                payload = chat([text], system=HINT_SYSTEM, max_tokens=80)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 90)
            t += rng.expovariate(per_day / (hours * HOUR))


def _on_shift(t: float, size: int) -> int:
    """The agent on shift at ``t``: the desk's hours cut into ``size`` equal shifts."""
    hour = (t % DAY) / HOUR
    span = (DESK_CLOSE - DESK_OPEN) / size
    return max(0, min(size - 1, int((hour - DESK_OPEN) / span)))


def handoff_member(index: int, size: int) -> BehaviourFn:
    """Agent ``index`` of a desk of ``size``: the desk's threads (one plan for every agent),
    each reply drafted by the agent on shift when the customer's message comes in."""

    def member(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        plan = random.Random(f"red7-desk-{size}")
        per_day = max(20, int(120 * ctx.scale))
        mine: list[tuple[float, dict[str, Any]]] = []
        for day in range(min(14, int(ctx.days))):
            if day % 7 >= 5:
                continue
            for _ in range(per_day):
                t = ctx.start + day * DAY + plan.uniform(DESK_OPEN, DESK_CLOSE - 3) * HOUR
                messages: list[dict[str, Any]] = [
                    {"role": "system", "content": DESK_SYSTEM},
                    {
                        "role": "user",
                        "content": "Customer wrote: " + plan.choice(ctx.pools.benign)[:800],
                    },
                ]
                for _ in range(plan.randint(2, 5)):
                    if _on_shift(t, size) == index and (t % DAY) / HOUR < DESK_CLOSE:
                        payload = {
                            "model": "gpt-4o-mini",
                            "messages": list(messages),
                            "max_tokens": 300,
                        }
                        mine.append((t, payload))
                    messages += [
                        {"role": "assistant", "content": DESK_DRAFT},
                        {"role": "user", "content": plan.choice(DESK_NEXT)},
                    ]
                    t += human_gap(plan, 1800)
        mine.sort(key=lambda item: item[0])
        now = ctx.start
        for when, payload in mine:
            now = max(now, when)
            if now >= ctx.end:
                return
            now, _ = yield from ask(now, Request(payload, headers=stack))

    return member
