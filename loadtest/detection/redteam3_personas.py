"""Red-team round 3 benign look-alikes: honest customers that a naive detector would flag.

* ``eval_vendor``: an LLM-evaluation vendor on an ordinary tier (no exemption yet): its
  customers' benchmark suites (public task sets, the surface of harvesting) in zero-shot,
  step-by-step and few-shot formats, each suite re-run against two models at temperature 0,
  then a judge pass with a short grading prompt; back to back on five days.
* ``label_startup``: a data-labelling startup's pipeline: one templated prompt ("reason
  briefly, then the label as JSON") over a stream of distinct texts (never a repeat), in
  cron batches at 02:00 and 14:00, machine pace, short outputs, five days.
* ``support_desk``: a multilingual help desk that follows the sun: three regional desk accounts
  of one company (hard-linked by its ``org_id``), each on an 8-hour shift, so the company
  answers around the clock; every ticket in the customer's language under a step-by-step
  troubleshooting prompt, with follow-ups.
* ``ablation_lab``: a research lab's ablations: one fixed public task set re-run arm after arm
  (prompt variant with or without "Let's think step by step", temperature), ``n=5`` samples,
  ``logprobs`` on some arms; the same few dozen prompts every time.
* ``mooc_student``: students of an online course, unrelated accounts (own address, own
  device), who all get the same weekly problem set and ask about its problems on their own
  evenings, each in their own words ("explain step by step"), with follow-ups.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from loadtest.detection.context import Context, ask
from loadtest.detection.harvest import LANGUAGES
from loadtest.detection.pace import FOLLOW_UPS, chat, human_gap, office
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
FEW_SHOT = (
    "Q: Tom has 3 apples and buys 2 more. How many apples does he have?\nA: 3 + 2 = 5. "
    "The answer is 5.\n\nQ: A book costs $12 and a pen $3. What do 2 books and a pen cost?\n"
    "A: 2 * 12 + 3 = 27. The answer is 27.\n\nQ: {task}\nA:"
)
FORMATS = ("Q: {task}\nA:", "Q: {task}\nA: Let's think step by step.", FEW_SHOT)
JUDGE = (
    "You are grading a model's answer for an evaluation report.\n\nTask: {task}\n\nModel "
    "answer: {answer}\n\nReason briefly, then output PASS or FAIL on the last line."
)
EVAL_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini")
LABEL_TEMPLATES = (
    "Read the text and label its intent (question, request, opinion, complaint, other) and "
    'its domain. Think it through briefly, then answer with JSON {{"intent": "...", '
    '"domain": "..."}}.\n\nText:\n"""{q}"""',
    "Classify the message below. First reason step by step about what the writer wants, then "
    "give one line: LABEL=<intent>; DOMAIN=<domain>.\n\n{q}",
    "Annotation item {n}. Explain your reasoning in one or two sentences, then output the "
    "category (coding, writing, math, business, health, other) of:\n{q}",
)
DESK = (
    "You are the support assistant of {company}. Troubleshoot step by step: restate the "
    "problem, reason about likely causes, then give numbered steps. Always reply in the "
    "customer's language."
)
COMPANIES = ("Northwind", "Contoso")
SHIFTS = (0.0, 8.0, 16.0)  # APAC, EMEA and Americas desks: around the clock between them
ABLATION_VARIANTS = (
    "{task}",
    "{task}\n\nLet's think step by step.",
    "Solve the problem and give only the final number.\n\n{task}",
)
STUDENT_ASKS = (
    "can you explain step by step how to solve this?",
    "I'm stuck on this homework problem, how do I work it out?",
    "Please walk me through this one, I have a quiz tomorrow:",
    "how do you solve this",
    "Explain the steps for this problem please.",
    "I got a different answer than the book, can you show me the working?",
)


def eval_vendor(acc: Account, ctx: Context) -> Behaviour:
    """Five jobs: a customer's suite (two suites, alternating) in one format on two models,
    then a judge pass over the suite; temperature 0, back to back."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    size = min(len(ctx.pools.harvest), max(30, int(100 * ctx.scale)))
    suites = [rng.sample(list(ctx.pools.harvest), size) for _ in range(2)]
    days = sorted(rng.sample(range(max(1, int(ctx.days))), min(5, int(ctx.days))))
    for job, day in enumerate(days):
        t = ctx.start + day * DAY + rng.uniform(9, 15) * HOUR
        suite, form = suites[job % 2], rng.choice(FORMATS)
        for model in rng.sample(EVAL_MODELS, 2):
            for task in suite:
                body = chat([form.format(task=task)], model=model, temperature=0, max_tokens=768)
                t, _ = yield from ask(t, Request(body, headers=stack))
                t += rng.uniform(0.3, 1.5)
        for task in suite:
            prompt = JUDGE.format(task=task, answer=f"The answer is {rng.randint(2, 999)}.")
            body = chat([prompt], model="gpt-4o", temperature=0, max_tokens=256)
            t, _ = yield from ask(t, Request(body, headers=stack))
            t += rng.uniform(0.3, 1.5)


def label_startup(acc: Account, ctx: Context) -> Behaviour:
    """Two cron batches a day of the startup's one template over fresh texts, five days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    template = rng.choice(LABEL_TEMPLATES)
    texts = list(ctx.pools.benign)
    rng.shuffle(texts)
    per_batch = max(40, int(120 * ctx.scale))
    n = 0
    for day in range(min(5, int(ctx.days))):
        for hour in (2.0, 14.0):
            t = ctx.start + day * DAY + hour * HOUR + rng.uniform(0, 300)
            for _ in range(per_batch):
                prompt = template.format(q=texts[n % len(texts)][:1500], n=n + 1)
                n += 1
                body = chat([prompt], temperature=0, max_tokens=200)
                t, _ = yield from ask(t, Request(body, headers=stack))
                t += rng.uniform(0.8, 2.5)


def support_desk(company: int, shift: int) -> BehaviourFn:
    """The desk of ``company`` on shift ``shift`` (0-2): tickets in 12 languages, 1-4 turns,
    a new ticket every few minutes through its 8 hours, 7 days."""
    system = DESK.format(company=COMPANIES[company % len(COMPANIES)])

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        stack = client_stack(random.Random(f"red3-desk-{company}"))  # the company's server
        for day in range(min(7, int(ctx.days))):
            t = ctx.start + day * DAY + SHIFTS[shift % len(SHIFTS)] * HOUR + rng.uniform(0, 600)
            end = t + 8 * HOUR
            while t < end:
                lang = rng.choice(LANGUAGES)
                first = f"[customer language: {lang}]\n{rng.choice(ctx.pools.benign)}"
                turns = [first, *rng.sample(FOLLOW_UPS, rng.choice((0, 1, 1, 2, 3)))]
                for i in range(1, len(turns) + 1):
                    body = chat(turns[:i], system=system, max_tokens=1024)
                    t, _ = yield from ask(t, Request(body, headers=stack))
                    t += human_gap(rng, 60)
                t += rng.expovariate(ctx.scale / 300)

    return behaviour


def ablation_lab(acc: Account, ctx: Context) -> Behaviour:
    """The lab's fixed task set, 3-5 arms a day on five days, ``n=5`` above temperature 0,
    ``logprobs`` on two arms in five."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    size = min(len(ctx.pools.harvest), max(20, int(50 * ctx.scale)))
    prompts = rng.sample(list(ctx.pools.harvest), size)
    for day in range(min(5, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(10, 16) * HOUR
        for _ in range(rng.randint(3, 5)):
            variant = rng.choice(ABLATION_VARIANTS)
            temperature = rng.choice((0.0, 0.3, 0.7, 1.0))
            params: dict[str, object] = {
                "temperature": temperature,
                "n": 5 if temperature else 1,
                "max_tokens": 512,
            }
            if rng.random() < 0.4:
                params.update(logprobs=True, top_logprobs=5)
            for task in prompts:
                body = chat([variant.format(task=task)], **params)
                t, _ = yield from ask(t, Request(body, headers=stack))
                t += rng.uniform(0.5, 2.5)


def mooc_student(course: int) -> BehaviourFn:
    """A student of ``course``: the week's twelve problems (the same for the whole course), most
    of them asked on the student's own evenings in their own words, with follow-ups."""

    def behaviour(acc: Account, ctx: Context) -> Behaviour:
        rng = ctx.rng(acc)
        syllabus = random.Random(f"red3-mooc-{course}")
        stack = client_stack(rng)
        weeks = max(1, int(ctx.days // 7))
        sets = [syllabus.sample(list(ctx.pools.harvest), 12) for _ in range(weeks)]
        for week, problems in enumerate(sets):
            first = week * 7 + rng.uniform(0, min(5.0, ctx.days - 1))
            t = office(ctx.start + first * DAY, rng, 17, 23)
            for problem in problems:
                if rng.random() < 0.15:
                    continue  # skipped (or solved alone)
                words = rng.choice(STUDENT_ASKS)
                first = f"{words}\n\n{problem}" if rng.random() < 0.7 else f"{problem}\n\n{words}"
                turns = [first, *rng.sample(FOLLOW_UPS, rng.choice((0, 0, 1, 2)))]
                for i in range(1, len(turns) + 1):
                    t, _ = yield from ask(t, Request(chat(turns[:i]), headers=stack))
                    t += human_gap(rng, 60)
                t = office(t + human_gap(rng, 600), rng, 17, 23)

    return behaviour
