"""Red-team round 8 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-7's write-ups only (not from the detector).

Rounds 6 and 7 showed that asking for value in words the gateway does not read works; round 8
asks whether the defence generalises beyond maths sweeps and single accounts:

* ``prompt_replay`` (new; other domains): real users' prompts (the arena pool: code, writing,
  analysis, other languages) replayed once each, plain, with long answers: general-assistant
  SFT data the Vicuna / WildChat way. The round's one strategy without reasoning words.
* ``self_chat`` (new; variation of solo human-mimics with fake follow-ups): UltraChat /
  Baize self-chat: a step-by-step ask opens a tutoring dialogue, the teacher itself (a
  "play the student" request) writes every follow-up, which is then asked with the whole
  dialogue as history; the follow-ups are specific, never repeat, and cost the operator
  nothing.
* ``app_user`` (variation of unlinked squads at human pace and camouflage): one fake
  homework app's "users": every account sends the app's fixed system prompt (step-by-step
  wording in it) and the app's client stack, student-style asks, follow-ups, a quarter of
  real users' prompts as cover; each account its own slice of the pool.
* ``rationalize`` (new): STaR rationalisation: the task and its gold answer ("the answer key
  says 18, how do you get 18?"): answer-conditioned traces, correct by construction, no
  rejection sampling needed.
* ``code_explain`` (other domain): coding prompts from real users, each once, with a
  paraphrased step-by-step ask and at times a follow-up: a code CoT sweep (not maths).

Every account is its own customer (own /24, no payment, org or device).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import chat
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth
from loadtest.detection.redteam7_text import COT_ASKS, MATH_FOLLOW, cot_ask
from loadtest.detection.redteam8_text import (
    APP_LEADS,
    APP_STACK,
    APP_SYSTEM,
    CODE_ASKS,
    CODE_FOLLOW,
    GENERATED_FOLLOW,
    RATIONALE,
    SIM_ASK,
    SIM_SYSTEM,
    TRACE_STUB,
    coding,
    numbers,
    slice_of,
)
from loadtest.detection.traffic import Account, Behaviour

BehaviourFn = Callable[[Account, Context], Behaviour]
SELF_TURNS = 2  # follow-ups the simulated student asks in each dialogue


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def replay_with(limits: tuple[int, ...] = (1500, 2000, 3000)) -> BehaviourFn:
    """``prompt_replay`` asking ``max_tokens`` from ``limits`` (an ablation's lever)."""

    def prompt_replay(acc: Account, ctx: Context) -> Behaviour:
        """Real users' prompts (the account's own slice of the pool), once each, plain, long."""
        rng = random.Random(f"red8-replay-{acc.behaviour_seed}")
        mine = slice_of(ctx.pools.benign, "red8-replay", nth(acc.name), acc.planned)

        def episodes() -> Iterator[Episode]:
            while True:
                for prompt in mine:
                    params = {
                        "max_tokens": rng.choice(limits),
                        "temperature": rng.choice((0.7, 0.8, 1.0)),
                    }
                    yield [(body(_user(prompt), **params), True)]

        return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=45, session=(10, 25))

    return prompt_replay


prompt_replay = replay_with()


def _transcript(turns: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"{who}: {text}" for who, text in turns)


def self_chat(acc: Account, ctx: Context) -> Behaviour:
    """A step-by-step ask opens a dialogue; ``SELF_TURNS`` times the teacher plays the
    student (one request) and answers the follow-up it wrote (the dialogue as history); the
    finished dialogue is the harvest."""
    rng = random.Random(f"red8-self-{acc.behaviour_seed}")

    def episodes() -> Iterator[Episode]:
        for task in tasks(ctx, rng):
            nums = numbers(rng, task)
            opener = cot_ask(rng, task)
            messages: list[dict[str, Any]] = _user(opener)
            spoken = [("Student", opener)]
            out: Episode = [(body(list(messages), max_tokens=1200), False)]
            for k in range(SELF_TURNS):
                answer = TRACE_STUB.format(nums=", ".join(nums), n=rng.randint(2, 900))
                messages.append({"role": "assistant", "content": answer})
                spoken.append(("Tutor", answer))
                sim = SIM_ASK.format(transcript=_transcript(spoken))
                out.append((chat([sim], system=SIM_SYSTEM, max_tokens=80, temperature=1.0), False))
                a, b = rng.sample(nums, 2)
                follow = rng.choice(GENERATED_FOLLOW).format(a=a, b=b, n=rng.randint(2, 900))
                messages.append({"role": "user", "content": follow})
                spoken.append(("Student", follow))
                out.append((body(list(messages), max_tokens=1200), k == SELF_TURNS - 1))
            yield out

    return drive(acc, ctx, episodes(), turn_gap=20, episode_gap=60, session=(6, 14))


def app_with(in_user: bool = False) -> BehaviourFn:
    """``app_user``; ``in_user``: the app's instructions as a fixed prefix of the user turn
    instead of the system prompt (an ablation's lever)."""

    def app_user(acc: Account, ctx: Context) -> Behaviour:
        """One of the fake app's users: its system prompt and client stack, student-style
        asks from the account's own slice, follow-ups, a quarter real prompts as cover."""
        rng = random.Random(f"red8-app-{acc.behaviour_seed}")
        mine = slice_of(ctx.pools.harvest, "red8-app", nth(acc.name), acc.planned)

        def ask_text(task: str) -> str:
            lead = rng.choice(APP_LEADS)
            text = f"{lead} {task}" if lead else task
            return text.lower() if rng.random() < 0.3 else text

        def app(turns: list[str]) -> dict[str, Any]:
            if in_user:
                return chat([f"{APP_SYSTEM}\n\n{turns[0]}", *turns[1:]], max_tokens=1000)
            return chat(turns, system=APP_SYSTEM, max_tokens=1000)

        def episodes() -> Iterator[Episode]:
            while True:
                for task in mine:
                    if rng.random() < 0.25:
                        yield [(app([rng.choice(ctx.pools.benign)[:1500]]), False)]
                    turns = [ask_text(task), *rng.sample(MATH_FOLLOW, rng.choice((0, 0, 0, 1)))]
                    yield [(app(turns[: i + 1]), i == 0) for i in range(len(turns))]

        return drive(
            acc, ctx, episodes(), turn_gap=40, episode_gap=90, session=(4, 10), stack=APP_STACK
        )

    return app_user


app_user = app_with()


def rationale_with(cot: bool = False) -> BehaviourFn:
    """``rationalize``; ``cot``: a plain step-by-step ask appended (an ablation's lever)."""

    def rationalize(acc: Account, ctx: Context) -> Behaviour:
        """The task and its gold answer: "how do you get N?"; one rationale a request."""
        rng = random.Random(f"red8-rational-{acc.behaviour_seed}")

        def episodes() -> Iterator[Episode]:
            for task in tasks(ctx, rng):
                text = rng.choice(RATIONALE).format(task=task, n=rng.randint(2, 900))
                limit = rng.choice((700, 900, 1200))
                if cot:
                    text += "\n\n" + rng.choice(COT_ASKS)
                yield [(body(_user(text), max_tokens=limit), True)]

        return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, session=(12, 30))

    return rationalize


rationalize = rationale_with()


def code_with(follow: float = 0.5) -> BehaviourFn:
    """``code_explain`` with a follow-up on a share ``follow`` of its prompts."""

    def code_explain(acc: Account, ctx: Context) -> Behaviour:
        """Real users' coding prompts (the account's own slice), each with a paraphrased
        step-by-step ask; some with a follow-up."""
        rng = random.Random(f"red8-code-{acc.behaviour_seed}")
        mine = slice_of(coding(ctx.pools.benign), "red8-code", nth(acc.name), acc.planned)

        def episodes() -> Iterator[Episode]:
            while True:
                for prompt in mine:
                    cot = rng.choice(CODE_ASKS)
                    first = f"{cot}\n\n{prompt}" if rng.random() < 0.4 else f"{prompt}\n\n{cot}"
                    more = rng.random() < follow
                    turns = [first, *([rng.choice(CODE_FOLLOW)] if more else [])]
                    yield [
                        (chat(turns[: i + 1], max_tokens=2000), i == 0) for i in range(len(turns))
                    ]

        return drive(acc, ctx, episodes(), turn_gap=45, episode_gap=60, session=(5, 12))

    return code_explain


code_explain = code_with()
