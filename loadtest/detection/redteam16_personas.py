"""Red-team round 16 benign look-alikes: honest customers with the surface of round 16's
strategies, which a defence that closed those holes naively would hurt.

* ``study_chat``: a student revising in a chat front end (own key, Chat Completions, the
  whole history re-sent): the chat opens "for each problem I paste, walk me through it step
  by step", then 3-8 problems of the class's textbook (Zipf: popular ones again), bare, a
  third with a "why?"; after school; the surface of ``preamble_turn`` and ``rolling_chain``.
* ``brief_member``: one team's keys (an engineering-support team, one company): the first
  member at work stores the day's brief ("explain your reasoning step by step so a reviewer
  can check it"), every member's questions continue that brief by ``previous_response_id``
  (a colleague's stored response), a fifth with a follow-up; weekdays 9-18 h; the surface of
  ``sibling_root``.
* ``stream_tutor``: a homework app on the Responses API that streams every answer: a
  student's opener (at times "explain each step"), then 2-6 of the class's problems, each
  continuing the answer before it; after school; the surface of ``streamed_root``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import human_gap
from loadtest.detection.redteam12_personas import _days
from loadtest.detection.redteam14_personas import _after_school
from loadtest.detection.redteam15_personas import _zipf
from loadtest.detection.redteam16_text import (
    BRIEF,
    BRIEF_TOPICS,
    RESPONSES,
    STUDY_FOLLOW_UPS,
    STUDY_OPENINGS,
    TUTOR_FOLLOW_UPS,
    TUTOR_OPENERS,
    branch,
    root,
    streamed,
)
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Outcome, Request

STUDY_STACK = {"User-Agent": "Chatbox/1.9.4 (Windows 11) OpenAI/JS 4.104.0"}
BRIEF_STACK = {"User-Agent": "support-copilot/3.2 OpenAI/Python 1.101.0"}
TUTOR_STACK = {"User-Agent": "MathBuddy/5.1 (iOS 18.2) OpenAI/Swift 0.4.1"}
TUTOR_INSTRUCTIONS = "You are MathBuddy, a patient tutor for secondary-school students."
Step = Generator[tuple[float, Request], Outcome, float]
BehaviourFn = Callable[[Account, Context], Behaviour]


def study_chat(acc: Account, ctx: Context) -> Behaviour:
    """After school, revision chats: the opening ask, then bare problems in one history."""
    rng = random.Random(f"red16-study-{acc.behaviour_seed}")

    def chat(t: float, shared: list[str]) -> Step:
        history: list[dict[str, Any]] = [{"role": "user", "content": rng.choice(STUDY_OPENINGS)}]
        for k in range(rng.randint(3, 8) + 1):
            if k:
                t += human_gap(rng, 90)
                history.append({"role": "user", "content": _zipf(rng, shared)})
            payload = {"model": "gpt-4o-mini", "messages": list(history)}
            t, out = yield from ask(t, Request(payload, headers=STUDY_STACK))
            history.append({"role": "assistant", "content": out.answer or "Sure."})
            if k and rng.random() < 0.33:
                history.append({"role": "user", "content": rng.choice(STUDY_FOLLOW_UPS)})
                t += human_gap(rng, 40)
                follow = {"model": "gpt-4o-mini", "messages": list(history)}
                t, out = yield from ask(t, Request(follow, headers=STUDY_STACK))
                history.append({"role": "assistant", "content": out.answer or "Sure."})
        return t

    return _after_school(acc, ctx, max(3, int(5 * ctx.scale)), chat)


def brief_member(index: int, briefs: dict[int, str]) -> BehaviourFn:
    """Team member ``index``; ``briefs`` (day -> the day's stored brief) is the team's."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = random.Random(f"red16-brief-{acc.behaviour_seed}")
        pool = list(ctx.pools.benign)
        per_day = max(6, int(18 * ctx.scale))
        for t in _days(ctx, rng, (9, 10)):
            day = int((t - ctx.start) // DAY)
            end = t - (t - ctx.start) % DAY + 18 * HOUR
            while t < end:
                if day not in briefs:  # the first one at work stores today's brief
                    text = BRIEF.format(topic=BRIEF_TOPICS[(day + index) % len(BRIEF_TOPICS)])
                    request = Request(root(text), headers=BRIEF_STACK, path=RESPONSES)
                    t, out = yield from ask(t, request)
                    if out.response_id:
                        briefs[day] = out.response_id
                    t += human_gap(rng, 60)
                    continue
                question = branch(rng.choice(pool)[:1500], briefs[day])
                t, out = yield from ask(t, Request(question, headers=BRIEF_STACK, path=RESPONSES))
                if not out.served and briefs.get(day) == question["previous_response_id"]:
                    briefs.pop(day)  # the brief is gone upstream: store it again
                elif out.response_id and rng.random() < 0.2:
                    text = rng.choice(("can you expand on the second point?", "thanks"))
                    follow = Request(
                        branch(text, out.response_id), headers=BRIEF_STACK, path=RESPONSES
                    )
                    t, _ = yield from ask(t + human_gap(rng, 60), follow)
                t += rng.expovariate(per_day / (9 * HOUR))

    return behaviour


def stream_tutor(acc: Account, ctx: Context) -> Behaviour:
    """After school, streamed chats: an opener, then class problems each continuing the last."""
    rng = random.Random(f"red16-tutor-{acc.behaviour_seed}")

    def chat(t: float, shared: list[str]) -> Step:
        params = {"model": "gpt-4.1-mini", "instructions": TUTOR_INSTRUCTIONS}
        opener = streamed(root(rng.choice(TUTOR_OPENERS), **params))
        t, out = yield from ask(t, Request(opener, headers=TUTOR_STACK, path=RESPONSES))
        for _ in range(rng.randint(2, 6)):
            if not out.response_id:
                break
            text = _zipf(rng, shared) if rng.random() < 0.75 else rng.choice(TUTOR_FOLLOW_UPS)
            payload = streamed(branch(text, out.response_id, **params))
            request = Request(payload, headers=TUTOR_STACK, path=RESPONSES)
            t, out = yield from ask(t + human_gap(rng, 80), request)
        return t

    return _after_school(acc, ctx, max(3, int(6 * ctx.scale)), chat)
