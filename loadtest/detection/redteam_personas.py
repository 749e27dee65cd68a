"""Red-team benign look-alikes: honest customers whose traffic has the surface of harvesting.

* ``app_template``: one product (a tutoring, support or coding assistant) run by many unrelated
  customer accounts; every account's server forwards its own end users' varied questions
  under the product's step-by-step system prompt, at a steady machine rate, no links.
* ``eval_team``: an evaluation team running a public benchmark (the harvest pool: that is what
  public benchmarks are) with the standard "think step by step" prompt, back to back, twice.
  Its accounts are on the ``evaluation`` tier: an operator exempts them there (a tier the
  policy may define with ``detection.tiers.evaluation``); a policy without it treats them as
  its default tier.
* ``ci_hourly``: CI pipelines of separate companies, each running its own fixed prompt suite
  on the hour (the same minute everywhere), temperature 0, short answers.
* ``classroom_nat``: a class behind one school NAT (one address): the same assignment prompts
  at the same time from every student, one notebook environment (one client stack), then
  each student's own follow-ups.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, chat, human_gap
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
APPS = (
    (
        "You are StudyBuddy, a friendly tutor for students. Explain every answer step by step, "
        "show your reasoning at each step, check the result, and finish with a short summary "
        "the student can remember.",
        1500,
    ),
    (
        "You are the support assistant of a software company. Think through the customer's "
        "problem step by step: restate it, reason about likely causes, then give numbered "
        "steps to resolve it. Be polite and concise.",
        1024,
    ),
    (
        "You are a coding assistant embedded in an IDE. Reason step by step about the user's "
        "request before writing code, explain your reasoning briefly, then give the complete "
        "code and how to test it.",
        2048,
    ),
)
BENCH_PROMPT = "Q: {task}\nA: Let's think step by step."
CI_SYSTEM = "You are the assistant in {product}'s integration tests. Answer briefly."
PRODUCTS = ("Acme CRM", "Globex Docs", "Initech Helpdesk", "Umbrella Notes", "Hooli Mail")


def app_member(app: int) -> BehaviourFn:
    """A customer account running product ``app``: its users' questions, a steady rate."""
    system, max_tokens = APPS[app % len(APPS)]

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(rng)
        per_day = max(20, int(150 * ctx.scale))
        open_h = rng.uniform(6, 9)
        span = rng.uniform(13, 16) * HOUR
        gap = span / per_day
        first = rng.randrange(0, max(1, int(ctx.days) - 2))
        for day in range(first, min(int(ctx.days), first + 3)):
            t = ctx.start + day * DAY + open_h * HOUR + rng.uniform(0, gap)
            for _ in range(per_day):
                turns = [rng.choice(ctx.pools.benign)]
                if rng.random() < 0.1:
                    turns.append(rng.choice(FOLLOW_UPS))
                # an end user's follow-up continues the chat the app had: the first ask
                # goes (and is answered) first (round 20b; it used to go alone)
                for n in range(1, len(turns) + 1):
                    if n > 1:
                        t += human_gap(rng, 60)
                    body = chat(turns[:n], system=system, max_tokens=max_tokens)
                    t, _ = yield from ask(t, Request(body, headers=stack))
                t += gap * rng.uniform(0.5, 1.5)

    return behaviour


def eval_team(acc: Account, ctx: Context) -> Behaviour:
    """A public benchmark, run twice (baseline and candidate) on two days, temperature 0."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    n = min(len(ctx.pools.harvest), max(40, int(500 * ctx.scale)))
    bench = rng.sample(list(ctx.pools.harvest), n)
    days = sorted(rng.sample(range(max(2, int(ctx.days))), 2))
    for day in days:
        t = ctx.start + day * DAY + rng.uniform(9, 16) * HOUR
        for task in bench:
            body = chat([BENCH_PROMPT.format(task=task)], temperature=0, max_tokens=1024)
            t, _ = yield from ask(t, Request(body, headers=stack))
            t += rng.uniform(0.5, 2.0)


def ci_job(acc: Account, ctx: Context) -> Behaviour:
    """A fixed suite of prompts on every hour from 8 to 19 on working days, all on the hour."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    system = CI_SYSTEM.format(product=rng.choice(PRODUCTS))
    size = max(3, round(rng.randint(8, 14) * ctx.scale))
    suite = rng.sample(list(ctx.pools.benign), min(len(ctx.pools.benign), size))
    days = min(int(ctx.days), 5)
    for day in range(days):
        for hour in range(8, 20):
            t = ctx.start + day * DAY + hour * HOUR + rng.uniform(0, 3)
            for prompt in suite:
                body = chat([prompt], system=system, temperature=0, max_tokens=200)
                t, _ = yield from ask(t, Request(body, headers=stack))
                t += rng.uniform(0.3, 1.5)


def student(klass: int) -> BehaviourFn:
    """A student of class ``klass``: the class's assignment at lesson time, own follow-ups."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        school = random.Random(f"red-class-{klass}")
        stack = client_stack(school)  # the class's notebook environment
        lessons = sorted(school.sample(range(max(1, int(ctx.days))), min(4, int(ctx.days))))
        for lesson in lessons:
            t = ctx.start + lesson * DAY + (9 + klass % 5) * HOUR + rng.uniform(30, 300)
            assignment = school.sample(list(ctx.pools.benign), 3)
            for q, question in enumerate(assignment, 1):
                turns = [f"Assignment question {q}: {question}"]
                for i in range(rng.randint(2, 6)):
                    if i:
                        turns.append(rng.choice(FOLLOW_UPS))
                    t, _ = yield from ask(t, Request(chat(turns), headers=stack))
                    t += human_gap(rng, 50)

    return behaviour
