"""Red-team round 9 benign look-alikes: common honest products with the surface of round 9's
strategies, which a defence that closed those holes naively would hurt.

* ``review_scorer``: an online shop's review-moderation worker (one product key): every new
  customer review once, under one fixed grading prompt ("rate how helpful, 1-5, one-line
  reason"), short answers, in a daily batch at machine pace; the surface of
  ``quality_rater`` (each text once, a fixed grading system prompt, a score out).
* ``query_rewrite``: a help-centre chatbot (one product key): each end user's question is
  first rewritten into up to three search queries (a short request), then answered with the
  retrieved articles in the prompt; popular questions come again and again; the surface of
  ``query_gen`` (text in, search queries out).
* ``pdf_chat``: a "chat with your PDF" app's user (a personal key): a document re-sent with
  every question (3-8 questions a document, some "explain step by step how they reach the
  result in item 3"), a few documents a day; the surface of ``cache_ride`` (one long prefix,
  a new question last).
* ``course_author``: a teacher in a course-authoring tool (a personal key): lesson sections
  built around problems of the school's problem bank, for an audience, with edits ("make it
  shorter"), evenings; the surface of ``textbook``.
"""

from __future__ import annotations

import random

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import chat, human_gap, zipf_pick
from loadtest.detection.redteam9_text import (
    ANSWER_SYSTEM,
    AUDIENCES,
    COURSE_ASK,
    COURSE_EDITS,
    COURSE_SYSTEM,
    PDF_ASKS,
    PDF_SYSTEM,
    REVIEW_STACK,
    REVIEW_SYSTEM,
    REWRITE_SYSTEM,
    passage,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request


def review_scorer(acc: Account, ctx: Context) -> Behaviour:
    """A batch a day (the day's new reviews, each once), one to three seconds apart."""
    rng = ctx.rng(acc)
    reviews = list(ctx.pools.benign)
    rng.shuffle(reviews)
    per_day = max(20, int(100 * ctx.scale))
    for day in range(int(ctx.days)):
        t = ctx.start + day * DAY + rng.uniform(2, 3) * HOUR  # the nightly batch
        for j in range(per_day):
            review = passage(reviews[(day * per_day + j) % len(reviews)], 800)
            payload = chat([review], system=REVIEW_SYSTEM, max_tokens=40, temperature=0)
            t, _ = yield from ask(t, Request(payload, headers=REVIEW_STACK))
            t += rng.uniform(1.0, 3.0)


def query_rewrite(acc: Account, ctx: Context) -> Behaviour:
    """End users' questions (Zipf popularity over the product's usual questions), 8-22 h,
    ten days: a rewrite request, then the answer with three articles."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    usual = rng.sample(list(ctx.pools.benign), min(200, len(ctx.pools.benign)))
    articles = list(ctx.pools.benign)
    per_day = max(15, int(60 * ctx.scale))
    for day in range(min(10, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(8, 9) * HOUR
        for _ in range(per_day):
            question = passage(zipf_pick(rng, usual), 600)
            payload = chat([question], system=REWRITE_SYSTEM, max_tokens=60, temperature=0)
            t, _ = yield from ask(t, Request(payload, headers=stack))
            found = "\n\n---\n\n".join(passage(a, 700) for a in rng.sample(articles, 3))
            text = f"Articles:\n\n{found}\n\nQuestion: {question}"
            payload = chat([text], system=ANSWER_SYSTEM, max_tokens=500)
            t, _ = yield from ask(t + rng.uniform(0.5, 1.5), Request(payload, headers=stack))
            t += rng.expovariate(per_day / (13 * HOUR))


def pdf_chat(acc: Account, ctx: Context) -> Behaviour:
    """2-5 documents a day at the person's hours, 3-8 questions each (the document re-sent
    with every question), two weeks."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    for day in range(int(ctx.days)):
        t = ctx.start + day * DAY + rng.choice((9.0, 14.0, 20.0)) * HOUR + rng.uniform(0, HOUR)
        for _ in range(rng.randint(2, 5)):
            parts = rng.sample(list(ctx.pools.benign), rng.randint(3, 6))
            doc = "\n\n".join(f"{k}. {passage(p, 900)}" for k, p in enumerate(parts, 1))
            topic = " ".join(parts[0].split()[:4])
            for _ in range(rng.randint(3, 8)):
                question = rng.choice(PDF_ASKS).format(topic=topic, k=rng.randint(1, len(parts)))
                text = f"Document:\n\n{doc}\n\n{question}"
                payload = chat([text], system=PDF_SYSTEM, max_tokens=800)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 90)
            t += human_gap(rng, 1200)


def course_author(acc: Account, ctx: Context) -> Behaviour:
    """Weekday evenings and weekend mornings: 3-8 sections from the school's problem bank
    (popular problems again), an edit or two at times."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    pool = list(ctx.pools.harvest)
    bank = random.Random("red9-problem-bank").sample(pool, min(80, len(pool)))
    audience = rng.choice(AUDIENCES)
    for day in range(int(ctx.days)):
        weekend = day % 7 >= 5
        t = ctx.start + day * DAY + ((9.0 if weekend else 19.0) + rng.uniform(0, 1)) * HOUR
        for _ in range(rng.randint(3, 8)):
            turns = [COURSE_ASK.format(audience=audience, task=zipf_pick(rng, bank))]
            turns += rng.sample(COURSE_EDITS, rng.choice((0, 0, 1, 2)))
            for i in range(len(turns)):
                payload = chat(turns[: i + 1], system=COURSE_SYSTEM, max_tokens=1500)
                t, _ = yield from ask(t, Request(payload, headers=stack))
                t += human_gap(rng, 180)
            t += human_gap(rng, 600)
