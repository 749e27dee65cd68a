"""Red-team round 10 harvest strategies, written from the README, the policy reference, the
shipped policy, the kit's harness and rounds 1-9's write-ups only (not from the detector).

The documents say detection acts when two behavioural families and a harvest-value signal
agree, list the value signals (chain-of-thought / rubric wording, sampling parameters, trace
schemas, worked-answer history, "the other products of distillation": new items with
solutions, soft labels in words, programs, corrections) and say how the request path reads a
turn (its text; a picture's digest when the text is a short ask beside a picture). Round 10
buys what a distillation operation buys in 2026 and is none of those, or moves the task
where the request path does not read it, or hides it inside a real person's own traffic:

* ``entity_labels`` (new): targeted distillation of an information-extraction model (the
  UniversalNER way): a passage, the pipeline's fixed instruction after it, JSON mode; the
  teacher's open-type entity labels train a small extractor.
* ``voice_task`` (new): the task only as a recording (an ``input_audio`` content part, a
  spoken benchmark) beside a short text ask: speech-in reasoning data for a voice model.
  The README's picture rule names pictures, not recordings.
* ``if_constraints`` (new): verifiable-constraint prompts (the Tulu 3 / AutoIF way): real
  users' prompts with one to three checkable constraints ("no commas", "exactly 3 bullet
  points"); the answers that pass a checker train instruction following.
* ``pref_pairs`` (new): one request, two answers: a correct one and a convincing flawed one
  (chosen and on-distribution rejected at once, for preference tuning); no trace asked for.
* ``piggyback`` (new): volunteers' own keys (a browser extension pays "credits" for spare
  quota): each account is a real person's, with the person's own chats; the extension sends
  the operator's queue with that key seconds after the person's own requests, from the
  browser (its own User-Agent): under half of the account's stream.

Every account is its own customer (own /24, no payment, org or device). The first four run
in human-paced sessions in the account's own hours (``redteam4_harvest.drive``) until
``planned`` harvest responses; ``piggyback`` follows its person's days.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import tasks
from loadtest.detection.pace import FOLLOW_UPS, Interests, chat, human_gap
from loadtest.detection.redteam4_harvest import drive
from loadtest.detection.redteam4_text import Episode, body, nth
from loadtest.detection.redteam8_text import slice_of
from loadtest.detection.redteam9_text import passage
from loadtest.detection.redteam10_text import (
    BROWSERS,
    ENTITY_ASKS,
    ENTITY_FORMAT,
    PAIR_ASKS,
    PIGGY_ASKS,
    VOICE_ASKS,
    VOICE_MODELS,
    audio_part,
    constraints,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]


def _user(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


def _corpus(ctx: Context) -> list[str]:
    """The operator's documents: every prompt of both pools (a crawl stand-in)."""
    return [*ctx.pools.benign, *ctx.pools.harvest]


def entity_labels(acc: Account, ctx: Context) -> Behaviour:
    """The account's own slice of the corpus, each passage once, the pipeline's one
    instruction after it, JSON mode, short answers."""
    rng = random.Random(f"red10-entity-{acc.behaviour_seed}")
    instruction = ENTITY_ASKS[nth(acc.name) % len(ENTITY_ASKS)]
    mine = slice_of(_corpus(ctx), "red10-entity", nth(acc.name), acc.planned)

    def episodes() -> Iterator[Episode]:
        while True:
            for text in mine:
                messages = _user(f"{passage(text, 1500)}\n\n{instruction}")
                limit = rng.choice((256, 320, 400))
                params = {"max_tokens": limit, "temperature": 0, "response_format": ENTITY_FORMAT}
                yield [(body(messages, **params), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=30, session=(12, 30))


def voice_with(asks: tuple[str, ...] = VOICE_ASKS, transcript: bool = False) -> BehaviourFn:
    """``voice_task``; ``asks``: the text parts to draw from; ``transcript``: the task's text
    in the text part too (an ablation's levers)."""

    def voice_task(acc: Account, ctx: Context) -> Behaviour:
        """Each task once, as a recording (read by one of the operator's synthetic voices)
        beside a short text ask; audio models, moderate answers."""
        rng = random.Random(f"red10-voice-{acc.behaviour_seed}")
        voice = f"tts-{nth(acc.name) % 6}"

        def episodes() -> Iterator[Episode]:
            for task in tasks(ctx, rng):
                text = rng.choice(asks)
                text = f"{text}\n\n{task}" if transcript else text
                parts = [{"type": "text", "text": text}, audio_part(task, voice)]
                if rng.random() < 0.5:
                    parts.reverse()
                params = {
                    "model": rng.choice(VOICE_MODELS),
                    "modalities": ["text"],
                    "max_tokens": rng.choice((800, 1000, 1200)),
                }
                yield [(body(_user(parts), **params), True)]

        return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=45, session=(8, 20))

    return voice_task


voice_task = voice_with()


def if_constraints(acc: Account, ctx: Context) -> Behaviour:
    """The account's own slice of prompts, each once with one to three checkable
    constraints after it."""
    rng = random.Random(f"red10-if-{acc.behaviour_seed}")
    mine = slice_of(_corpus(ctx), "red10-if", nth(acc.name), acc.planned)

    def episodes() -> Iterator[Episode]:
        while True:
            for prompt in mine:
                text = f"{passage(prompt, 1500)}\n\n{' '.join(constraints(rng))}"
                limit = rng.choice((800, 1000, 1500))
                yield [(body(_user(text), max_tokens=limit, temperature=0.7), True)]

    return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=40, session=(10, 24))


def pairs_with(asks: tuple[str, ...] = PAIR_ASKS) -> BehaviourFn:
    """``pref_pairs``; ``asks``: the wordings to draw from (an ablation's lever)."""

    def pref_pairs(acc: Account, ctx: Context) -> Behaviour:
        """Each task once: a correct answer and a convincing flawed one in one request."""
        rng = random.Random(f"red10-pairs-{acc.behaviour_seed}")

        def episodes() -> Iterator[Episode]:
            for task in tasks(ctx, rng):
                text = rng.choice(asks).format(task=task)
                limit = rng.choice((900, 1100, 1400))
                yield [(body(_user(text), max_tokens=limit, temperature=0.8), True)]

        return drive(acc, ctx, episodes(), turn_gap=0, episode_gap=45, session=(8, 20))

    return pref_pairs


pref_pairs = pairs_with()


def piggy_with(asks: tuple[str, ...] = PIGGY_ASKS) -> BehaviourFn:
    """``piggyback``; ``asks``: the extension's ask wordings (an ablation's lever)."""

    def piggyback(acc: Account, ctx: Context) -> Behaviour:
        """A volunteer's evenings (and some lunch breaks): chats on the person's own interests
        with follow-ups, from the person's own app; after half of the person's requests the
        extension sends one or two of the operator's tasks (its own slice) 2-30 s later, until
        ``planned`` served or a challenge or block stops the extension (the person goes on)."""
        rng = random.Random(f"red10-piggy-{acc.behaviour_seed}")
        own = client_stack(rng)
        browser = {"User-Agent": rng.choice(BROWSERS)}
        interests = Interests(rng, ctx.pools.benign, rng.randint(3, 6), 0.3)
        queue = iter(slice_of(ctx.pools.harvest, "red10-piggy", nth(acc.name), max(1, acc.planned)))
        served, stopped = 0, False
        for day in range(int(ctx.days)):
            starts = [rng.uniform(19.0, 21.5)] + (
                [rng.uniform(12.0, 13.0)] if rng.random() < 0.4 else []
            )
            for hour in sorted(starts):
                t = ctx.start + day * DAY + hour * HOUR
                for _ in range(rng.randint(2, 5)):
                    turns = [interests.next(), *rng.sample(FOLLOW_UPS, rng.choice((0, 1, 1, 2, 3)))]
                    for i in range(len(turns)):
                        t, _ = yield from ask(t, Request(chat(turns[: i + 1]), headers=own))
                        if stopped or served >= acc.planned or rng.random() > 0.5:
                            t += human_gap(rng, 70)
                            continue
                        for _ in range(rng.choice((1, 1, 2))):
                            task = next(queue, None)
                            if task is None:
                                break
                            t += rng.uniform(2.0, 30.0)
                            text = rng.choice(asks).format(task=task)
                            payload = body(_user(text), max_tokens=rng.choice((600, 800)))
                            request = Request(payload, harvest=True, headers=browser)
                            t, out = yield from ask(t, request)
                            stopped = stopped or out.stopped
                            served += int(out.served)
                            if stopped or served >= acc.planned:
                                break
                        t += human_gap(rng, 70)
                    t += human_gap(rng, 400)

    return piggyback


piggyback = piggy_with()
