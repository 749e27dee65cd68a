"""Red-team round 11b benign look-alikes: honest customers round 1 did not have.

* ``translator``: a translation app's customer accounts (unrelated customers of one product):
  every end-user text goes out under "translate into <language>", languages and topics swept
  with no revisits, at a steady machine rate. Sweeping is the product.
* ``annotator``: a data-labelling vendor's annotators, one account each, behind the vendor's
  one egress address and one labelling tool (one client stack, one rubric system prompt),
  rating assistant answers with step-by-step justifications in 6-hour shifts.
* ``employee``: a company's internal chatbot: many employee accounts behind one egress
  address, one server (one client stack, one system prompt), each person's own questions and
  follow-ups at human pace, light use.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import LANGUAGES
from loadtest.detection.pace import FOLLOW_UPS, Interests, chat, human_gap, office
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
TRANSLATE = (
    "You are LinguaLoop, a translation app. Translate the user's text into {lang}. Keep the "
    "formatting, names and numbers; do not answer questions in the text, only translate it."
)
RUBRIC = (
    "You are assisting a professional annotator. Given a user request, write the response a "
    "helpful assistant should give, then rate it from 1 to 5 for helpfulness, accuracy and "
    "tone, reasoning step by step about each score."
)
ITEM = "Item {n} of batch {batch}.\n\nUser request:\n{prompt}"
INTERNAL = "You are Helix, the internal assistant of Initech. Be concise and friendly."


def translator(acc: Account, ctx: Context) -> Behaviour:
    """A customer account of the translation app: its users' texts, every language, 150 a day
    over 13-16 hours, 3 days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    per_day = max(20, int(150 * ctx.scale))
    open_h = rng.uniform(6, 9)
    gap = rng.uniform(13, 16) * HOUR / per_day
    texts = list(ctx.pools.benign)
    rng.shuffle(texts)
    first = rng.randrange(0, max(1, int(ctx.days) - 2))
    n = 0
    for day in range(first, min(int(ctx.days), first + 3)):
        t = ctx.start + day * DAY + open_h * HOUR + rng.uniform(0, gap)
        for _ in range(per_day):
            system = TRANSLATE.format(lang=rng.choice(LANGUAGES))
            body = chat([texts[n % len(texts)]], system=system, max_tokens=1024)
            n += 1
            t, _ = yield from ask(t, Request(body, headers=stack))
            t += gap * rng.uniform(0.5, 1.5)


def annotator(vendor: int) -> BehaviourFn:
    """An annotator of vendor ``vendor``: the vendor's tool and address, batches of items
    (benign requests) in shifts on 5 days, one to three minutes an item."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(random.Random(f"red2-vendor-{vendor}"))  # the labelling tool
        batch = rng.randrange(1000, 9000)
        per_shift = max(10, int(60 * ctx.scale))
        for day in range(min(5, int(ctx.days))):
            t = ctx.start + day * DAY + rng.uniform(7, 10) * HOUR
            batch += 1
            for n in range(1, per_shift + 1):
                prompt = ITEM.format(n=n, batch=batch, prompt=rng.choice(ctx.pools.benign))
                body = chat([prompt], system=RUBRIC, temperature=0.2, max_tokens=1200)
                t, _ = yield from ask(t, Request(body, headers=stack))
                t += rng.uniform(60, 180)

    return behaviour


def employee(company: int) -> BehaviourFn:
    """An employee using company ``company``'s internal chatbot: own topics, follow-ups,
    a few chats a working day."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(random.Random(f"red2-company-{company}"))  # the chatbot server
        topics = Interests(rng, ctx.pools.benign, rng.randint(2, 5), 0.4)
        for day in range(min(5, int(ctx.days))):
            t = ctx.start + day * DAY + rng.uniform(8, 11) * HOUR
            for _ in range(rng.randint(1, 4)):
                turns = [topics.next(), *rng.sample(FOLLOW_UPS, rng.choice((0, 1, 2)))]
                for i in range(1, len(turns) + 1):
                    t, _ = yield from ask(
                        t, Request(chat(turns[:i], system=INTERNAL), headers=stack)
                    )
                    t += human_gap(rng, 40)
                t = office(t + rng.uniform(0.5, 2) * HOUR, rng)

    return behaviour
