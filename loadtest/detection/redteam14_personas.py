"""Red-team round 14 benign look-alikes: honest customers with the surface of round 14's
strategies, which a defence that closed those holes naively would hurt.

* ``prompt_app``: a support-reply drafting product (one product key) built on a stored
  dashboard prompt: every agent's ticket once as the input, the tone and customer's name as
  the prompt's variables; weekdays 8-19 h; the surface of ``stored_prompt``.
* ``tutor_chain``: a homework app (one product key) on the Responses API, on its own
  fine-tune (the app's tone), keeping each chat by ``previous_response_id``: a student's
  first message (half of them word problems the class shares, popular ones again, often
  bare), 0-3 follow-ups chained; afternoons and evenings; the surface of ``chained_ask`` and
  ``tuned_model``.
* ``coach_app``: a maths-help chat app (one product key) whose history opens with its
  greeting ("send me a problem and I'll walk you through it step by step") as the assistant
  turn, then the student's problem (mostly the class's shared word problems, bare), 30 % a
  follow-up in the same history; afternoons and evenings; the surface of ``greeting``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import human_gap
from loadtest.detection.redteam12_personas import _days
from loadtest.detection.redteam14_text import RESPONSES, chained, oid, prompt_call
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Outcome, Request

PROMPT_STACK = {"User-Agent": "replydesk-worker/2.3 OpenAI/Python 1.99.1"}
TONES = ("friendly", "formal", "apologetic", "brief")
NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emeka", "Fatima", "Goran", "Hiro")
TUTOR_STACK = {"User-Agent": "StudyBuddy/5.2 (Android 14) OpenAI/Java 2.1.0"}
TUTOR_MODEL = "ft:gpt-4.1-mini-2025-04-14:studybuddy:tone-v7:Bq3xK2aP"
TUTOR_INSTRUCTIONS = "You help school students with homework. Explain simply; never just say yes."
STUDY_ASKS = ("", "", "how do I do this?", "I keep getting it wrong, help")
STUDY_FOLLOW_UPS = ("why?", "I don't get the second step", "ok thanks", "is there a faster way?")
COACH_STACK = {"User-Agent": "MathPal/3.1 (iPhone; iOS 18.1) okhttp-free"}
COACH_SYSTEM = "You are MathPal, a patient maths helper for students aged 10-16."
COACH_GREETING = (
    "Hi! I'm MathPal. Send me a problem and I'll walk you through it step by step, so you "
    "can do the next one on your own."
)


def prompt_app(acc: Account, ctx: Context) -> Behaviour:
    """Weekdays 8-19 h, tickets at a Poisson rate, each once through the stored prompt."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.benign)
    pid = oid("pmpt", random.Random(f"red14-replydesk-{acc.name}"))
    per_day = max(8, int(20 * ctx.scale))
    for t in _days(ctx, rng, (8, 8.5)):
        end = t - (t - ctx.start) % DAY + 19 * HOUR
        while t < end:
            variables = {"tone": rng.choice(TONES), "customer": rng.choice(NAMES)}
            payload = prompt_call(pid, "14", variables, rng.choice(pool)[:1500], model="gpt-4.1")
            t, _ = yield from ask(t, Request(payload, headers=PROMPT_STACK, path=RESPONSES))
            t += rng.expovariate(per_day / (11 * HOUR))


def homework(rng: random.Random, shared: list[str], pool: list[str], share: float) -> str:
    """A student's first message: a class's word problem (Zipf: popular ones again), often
    bare, with probability ``share``; anything else otherwise."""
    if rng.random() < share:
        task = rng.choices(shared, [1 / (k + 1) for k in range(len(shared))])[0]
        return f"{task}\n\n{rng.choice(STUDY_ASKS)}".strip()
    return rng.choice(pool)[:1000]


Chat = Callable[[float, list[str]], Generator[tuple[float, Request], Outcome, float]]


def _after_school(acc: Account, ctx: Context, per_day: int, chat: Chat) -> Behaviour:
    """Every day 15-22 h (weekends from 11 h), ``chat`` at a Poisson rate of ``per_day``
    (given the time and the class's shared problems; it returns when it ends)."""
    rng = ctx.rng(acc)
    shared = list(ctx.pools.harvest)[:400]
    for t in _days(ctx, rng, (15, 15.5), (11, 12)):
        end = t - (t - ctx.start) % DAY + 22 * HOUR
        while t < end:
            t = yield from chat(t, shared)
            t += rng.expovariate(per_day / (7 * HOUR))


def tutor_chain(acc: Account, ctx: Context) -> Behaviour:
    """After school, chats: the first message, then 0-3 follow-ups each chained to the
    answer before."""
    rng = random.Random(f"red14-tutor-{acc.behaviour_seed}")
    pool = list(ctx.pools.benign)

    def chat(t: float, shared: list[str]) -> Generator[tuple[float, Request], Outcome, float]:
        payload: dict[str, Any] = {
            "model": TUTOR_MODEL,
            "instructions": TUTOR_INSTRUCTIONS,
            "input": homework(rng, shared, pool, 0.5),
            "store": True,
        }
        t, out = yield from ask(t, Request(payload, headers=TUTOR_STACK, path=RESPONSES))
        for up in rng.sample(STUDY_FOLLOW_UPS, rng.choice((0, 1, 1, 2, 3))):
            if not out.response_id:
                break  # no answer to continue
            t += human_gap(rng, 45)
            follow = chained(up, out.response_id, model=TUTOR_MODEL)
            follow["instructions"] = TUTOR_INSTRUCTIONS
            t, out = yield from ask(t, Request(follow, headers=TUTOR_STACK, path=RESPONSES))
        return t

    return _after_school(acc, ctx, max(6, int(10 * ctx.scale)), chat)


def coach_app(acc: Account, ctx: Context) -> Behaviour:
    """After school, chats under the app's greeting; 30 % a follow-up in the same history."""
    rng = random.Random(f"red14-coach-{acc.behaviour_seed}")
    pool = list(ctx.pools.benign)

    def chat(t: float, shared: list[str]) -> Generator[tuple[float, Request], Outcome, float]:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": COACH_SYSTEM},
            {"role": "assistant", "content": COACH_GREETING},
            {"role": "user", "content": homework(rng, shared, pool, 0.7)},
        ]
        payload = {"model": "gpt-4o-mini", "messages": messages, "max_tokens": 700}
        t, out = yield from ask(t, Request(payload, headers=COACH_STACK))
        if rng.random() < 0.3:
            t += human_gap(rng, 45)
            turns = [
                {"role": "assistant", "content": out.answer or "Let's look at it."},
                {"role": "user", "content": rng.choice(STUDY_FOLLOW_UPS)},
            ]
            payload = {**payload, "messages": [*messages, *turns]}
            t, _ = yield from ask(t, Request(payload, headers=COACH_STACK))
        return t

    return _after_school(acc, ctx, max(8, int(15 * ctx.scale)), chat)
