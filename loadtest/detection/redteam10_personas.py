"""Red-team round 10 benign look-alikes: common honest products with the surface of round 10's
strategies, which a defence that closed those holes naively would hurt.

* ``voice_notes``: a voice assistant app's server (one product key): its users' voice
  messages, each a recording of its own, beside the app's one fixed text part, a fixed
  system prompt, short answers, a follow-up now and then (earlier turns as transcripts);
  the surface of ``voice_task`` (one short text, a new recording every request).
* ``crm_extractor``: a sales CRM's email ingestion (one product key, a worker User-Agent):
  every incoming email once under a fixed extraction prompt, JSON mode, short answers, in
  business hours; the surface of ``entity_labels`` (each text once, entities as JSON out).
* ``copy_tool``: a marketing-copy SaaS (one product key): its customers' briefs (regenerated
  at times) with the requirements of the tool's form appended (word limits, tone, keywords,
  bullet points); the surface of ``if_constraints`` (a prompt and checkable constraints).
* ``auto_title``: a person's self-hosted chat front end (a personal key): the person's chats
  and, seconds after them, the front end's background requests (a title for a new chat,
  tags for it) from the same key; the surface of ``piggyback`` (a person's chats and
  machine requests seconds after them).
"""

from __future__ import annotations

from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, Interests, chat, human_gap, zipf_pick
from loadtest.detection.redteam9_text import passage
from loadtest.detection.redteam10_text import (
    COPY_STACK,
    COPY_SYSTEM,
    CRM_STACK,
    CRM_SYSTEM,
    ENTITY_FORMAT,
    FRONTEND_STACK,
    TAGS_ASK,
    TITLE_ASK,
    VOICE_STACK,
    VOICE_SYSTEM,
    VOICE_TEXT,
    audio_part,
    copy_settings,
)
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request


def _hours(t: float) -> float:
    return (t % DAY) / HOUR


def voice_notes(acc: Account, ctx: Context) -> Behaviour:
    """End users' voice messages (Poisson, 8-22 h, ten days), each its own recording; a
    quarter of them follow up on an earlier message (its transcript as history)."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.benign)
    per_day = max(15, int(60 * ctx.scale))
    for day in range(min(10, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(8, 9) * HOUR
        while _hours(t) < 22:
            said = passage(rng.choice(pool), 300)
            speaker = f"{acc.name}-user-{rng.randint(0, 9999)}"
            part = audio_part(said, speaker)
            messages: list[dict[str, Any]] = [{"role": "system", "content": VOICE_SYSTEM}]
            if rng.random() < 0.25:
                earlier = passage(rng.choice(pool), 200)
                messages += [
                    {"role": "user", "content": earlier},
                    {"role": "assistant", "content": "Sure, here is what I found."},
                ]
            messages.append(
                {"role": "user", "content": [{"type": "text", "text": VOICE_TEXT}, part]}
            )
            payload = {
                "model": "gpt-4o-mini-audio-preview",
                "messages": messages,
                "max_tokens": 300,
            }
            t, _ = yield from ask(t, Request(payload, headers=VOICE_STACK))
            t += rng.expovariate(per_day / (14 * HOUR))


def crm_extractor(acc: Account, ctx: Context) -> Behaviour:
    """Incoming emails (each once), Poisson in business hours on working days, ten days."""
    rng = ctx.rng(acc)
    mail = list(ctx.pools.benign)
    rng.shuffle(mail)
    per_day = max(20, int(100 * ctx.scale))
    n = 0
    for day in range(min(14, int(ctx.days))):
        if day % 7 >= 5:
            continue
        t = ctx.start + day * DAY + rng.uniform(8, 9) * HOUR
        while _hours(t) < 18:
            text = passage(mail[n % len(mail)], 1500)
            n += 1
            payload = chat(
                [text],
                system=CRM_SYSTEM,
                max_tokens=300,
                temperature=0,
                response_format=ENTITY_FORMAT,
            )
            t, _ = yield from ask(t, Request(payload, headers=CRM_STACK))
            t += rng.expovariate(per_day / (9.5 * HOUR))


def copy_tool(acc: Account, ctx: Context) -> Behaviour:
    """Customers' briefs (Zipf over the tool's 300 active customers' briefs: regenerated
    again and again) with the form's requirements, 9-19 h on working days."""
    rng = ctx.rng(acc)
    briefs = rng.sample(list(ctx.pools.benign), min(300, len(ctx.pools.benign)))
    per_day = max(20, int(80 * ctx.scale))
    for day in range(min(14, int(ctx.days))):
        if day % 7 >= 5:
            continue
        t = ctx.start + day * DAY + rng.uniform(9, 10) * HOUR
        while _hours(t) < 19:
            brief = passage(zipf_pick(rng, briefs), 800)
            text = "\n".join([f"Brief: {brief}", "", "Requirements:", *copy_settings(rng)])
            payload = chat([text], system=COPY_SYSTEM, max_tokens=600, temperature=0.9)
            t, _ = yield from ask(t, Request(payload, headers=COPY_STACK))
            t += rng.expovariate(per_day / (9.5 * HOUR))


def auto_title(acc: Account, ctx: Context) -> Behaviour:
    """The person's evenings and weekend mornings: chats on their interests with follow-ups;
    after each new chat's first answer the front end asks for a title (1-3 s later), and
    after its second message for tags."""
    rng = ctx.rng(acc)
    interests = Interests(rng, ctx.pools.benign, rng.randint(3, 6), 0.3)
    for day in range(int(ctx.days)):
        hour = rng.uniform(9, 11) if day % 7 >= 5 else rng.uniform(19, 21)
        t = ctx.start + day * DAY + hour * HOUR
        for _ in range(rng.randint(1, 5)):
            turns = [interests.next(), *rng.sample(FOLLOW_UPS, rng.choice((0, 1, 2, 3)))]
            for i in range(len(turns)):
                t, _ = yield from ask(t, Request(chat(turns[: i + 1]), headers=FRONTEND_STACK))
                if i < 2:
                    excerpt = "\n".join(f"USER: {passage(x, 400)}" for x in turns[: i + 1])
                    text = (TITLE_ASK if i == 0 else TAGS_ASK).format(chat=excerpt)
                    payload = chat([text], max_tokens=50, temperature=0.2)
                    t += rng.uniform(1.0, 3.0)
                    t, _ = yield from ask(t, Request(payload, headers=FRONTEND_STACK))
                t += human_gap(rng, 80)
            t += human_gap(rng, 600)
