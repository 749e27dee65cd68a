"""Red-team round 4 benign look-alikes: honest customers with the surface of round 4's
strategies, which a defence that closed those holes naively would flag.

* ``json_extractor``: a document-processing SaaS: every request a distinct customer document
  under a strict JSON schema whose first field is a ``reasoning`` string ("think before you
  label": a common accuracy trick), single-turn, machine pace through business hours.
* ``native_tutor``: a homework app for one non-English market: its system prompt and its
  students' asks are in that language ("explique étape par étape"), the problems are
  grade-school maths (the public task sets harvesters sweep), follow-ups in the language.
* ``coding_agent``: a developer's coding agent (tools, tool results as the last message, 4-20
  loop steps per task, long outputs, no ``max_tokens``), office hours.
* ``few_shot_app``: one product's customers (unrelated accounts) whose server sends the
  product's fixed few-shot exemplars (worked answers) before every end user's maths problem.
* ``socratic_tutor``: a school's Socratic tutor deployment: students step through homework
  problems a move at a time ("ok, and then?") in the evenings, interleaved.
* ``polyglot_fleet``: one company's account called by services in many languages and SDK
  versions (Python, Node, Go, Java, .NET, LangChain, curl from cron): single-turn, never
  repeated asks (summaries, triage with a short "reason briefly"), around the working day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import FOLLOW_UPS, chat, human_gap, office
from loadtest.detection.redteam4_text import (
    AGENT_SYSTEM,
    AGENT_TOOLS,
    BEGIN,
    CONTINUE,
    FINISH,
    body,
    nth,
    passing,
    schema_params,
    tool_call,
    worked,
)
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

BehaviourFn = Callable[[Account, Context], Behaviour]
EXTRACT = (
    "Extract the request type, product area and sentiment of this customer message.\n\n{q}",
    "Label this document for our search index (topic, audience, language).\n\n{q}",
    "Read the message and decide which team should handle it.\n\n{q}",
)
REASONING_FIELD = ("reasoning", "Think about the message before you fill the other fields.")
TUTOR = {  # language -> (system prompt, how students ask, follow-ups)
    "fr": (
        "Tu es Prof+, un tuteur de mathématiques. Explique chaque étape clairement.",
        ("Explique-moi étape par étape : {q}", "Je ne comprends pas cet exercice : {q}"),
        ("Je ne comprends pas l'étape 2.", "Tu peux vérifier ?", "Merci ! Un autre exemple ?"),
    ),
    "es": (
        "Eres Profe, un tutor de matemáticas. Explica cada paso con claridad.",
        ("¿Me lo explicas paso a paso? {q}", "No entiendo este ejercicio: {q}"),
        ("No entiendo el segundo paso.", "¿Puedes comprobarlo?", "¡Gracias! ¿Otro ejemplo?"),
    ),
    "de": (
        "Du bist Mathe-Coach. Erkläre jeden Schritt verständlich.",
        ("Kannst du mir das Schritt für Schritt erklären? {q}", "Ich komme nicht weiter: {q}"),
        ("Den zweiten Schritt verstehe ich nicht.", "Stimmt das wirklich?", "Danke!"),
    ),
    "zh": (
        "你是数学辅导老师，请一步一步清楚地讲解。",
        ("请一步一步给我讲这道题：{q}", "这道题我不会：{q}"),
        ("第二步我没看懂。", "你能再检查一下吗？", "谢谢！再举个例子？"),
    ),
}
FEW_SHOT_SYSTEM = "You are MathCheck, a helper for teachers. Solve the problem like the examples."
FLEET = (  # (User-Agent, SDK language, version) of the company's services
    ("OpenAI/Python 1.54.3", "python", "1.54.3"),
    ("OpenAI/Python 1.35.10", "python", "1.35.10"),
    ("OpenAI/JS 4.67.1", "js", "4.67.1"),
    ("OpenAI/JS 4.28.0", "js", "4.28.0"),
    ("openai-go/0.1.0-alpha.38", "go", "0.1.0-alpha.38"),
    ("openai-java/0.8.1", "java", "0.8.1"),
    ("OpenAI/.NET 2.1.0", "dotnet", "2.1.0"),
    ("langchain-openai/0.2.9 OpenAI/Python 1.51.0", "python", "1.51.0"),
    ("curl/8.5.0", "", ""),
)
FLEET_ASKS = (
    "Summarize this support thread for the weekly report:\n\n{q}",
    "Triage: reason briefly about the customer's intent, then give one label.\n\n{q}",
    "Write a one-paragraph changelog entry from these notes:\n\n{q}",
    "Draft a polite reply to this message:\n\n{q}",
)


def _stack(service: int) -> dict[str, str]:
    agent, lang, version = FLEET[service % len(FLEET)]
    headers = {"User-Agent": agent}
    if lang:
        headers.update({"X-Stainless-Lang": lang, "X-Stainless-Package-Version": version})
    return headers


def json_extractor(acc: Account, ctx: Context) -> Behaviour:
    """Distinct documents under the product's schema, 9-18 h on five working days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    template = rng.choice(EXTRACT)
    params = schema_params(random.Random(f"red4-extractor-{acc.name}"), REASONING_FIELD)
    docs = list(ctx.pools.benign)
    rng.shuffle(docs)
    per_day = max(30, int(120 * ctx.scale))
    for n in range(per_day * min(5, int(ctx.days))):
        day = n // per_day
        if n % per_day == 0:
            t = ctx.start + day * DAY + rng.uniform(9, 10) * HOUR
        text = template.format(q=docs[n % len(docs)][:1500])
        payload = body([{"role": "user", "content": text}], temperature=0, **params)
        t, _ = yield from ask(t, Request(payload, headers=stack))
        t += rng.expovariate(per_day / (8 * HOUR))


def native_tutor(acc: Account, ctx: Context) -> Behaviour:
    """The app's students: about 80 problems an evening, a third with follow-ups."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    lang = list(TUTOR)[nth(acc.name) % len(TUTOR)]
    system, asks, follow = TUTOR[lang]
    per_day = max(20, int(80 * ctx.scale))
    for day in range(min(7, int(ctx.days))):
        t = ctx.start + day * DAY + rng.uniform(15, 17) * HOUR
        for _ in range(per_day):
            first = rng.choice(asks).format(q=rng.choice(ctx.pools.harvest))
            turns = [first, *rng.sample(follow, rng.choice((0, 0, 1, 2)))]
            for i in range(1, len(turns) + 1):
                t, _ = yield from ask(t, Request(chat(turns[:i], system=system), headers=stack))
                t += human_gap(rng, 40)
            t += rng.expovariate(per_day / (5 * HOUR))


def coding_agent(acc: Account, ctx: Context) -> Behaviour:
    """Tasks from the developer's own work, each an agent loop of 4-20 steps."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    pool = [p for p in ctx.pools.benign if len(p) > 80] or list(ctx.pools.benign)
    t = office(ctx.start + rng.uniform(0, 2) * DAY, rng, 9, 19)
    end = t + 5 * DAY
    n = 0
    while t < end and t < ctx.end:
        history: list[dict[str, Any]] = [
            {"role": "system", "content": AGENT_SYSTEM},
            {"role": "user", "content": rng.choice(pool)},
        ]
        for k in range(rng.randint(4, 20)):
            if k:
                history += tool_call(f"c{n}", rng.choice(passing(rng)))
                n += 1
            t, _ = yield from ask(t, Request(body(list(history), tools=AGENT_TOOLS), headers=stack))
            t += rng.uniform(2, 15)
        t = office(t + human_gap(rng, 900), rng, 9, 19)


def few_shot_app(acc: Account, ctx: Context) -> Behaviour:
    """The product's fixed exemplars, then one end user's problem; 100 a day, 14 hours."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    product = random.Random("red4-mathcheck")
    shots: list[dict[str, Any]] = []
    for q in product.sample(list(ctx.pools.harvest), 3):
        shots += [
            {"role": "user", "content": q},
            {"role": "assistant", "content": worked(product, q)},
        ]
    per_day = max(30, int(100 * ctx.scale))
    open_h = rng.uniform(6, 9)
    for day in range(min(7, int(ctx.days))):
        t = ctx.start + day * DAY + open_h * HOUR
        for _ in range(per_day):
            messages = [{"role": "system", "content": FEW_SHOT_SYSTEM}, *shots]
            messages.append({"role": "user", "content": rng.choice(ctx.pools.harvest)})
            t, _ = yield from ask(t, Request(body(messages, max_tokens=800), headers=stack))
            t += rng.expovariate(per_day / (14 * HOUR))


def socratic_tutor(acc: Account, ctx: Context) -> Behaviour:
    """A school's students, one problem each at a time, 3-6 turns, 16-21 h, school days."""
    rng = ctx.rng(acc)
    stack = client_stack(rng)
    problems = rng.sample(list(ctx.pools.harvest), min(len(ctx.pools.harvest), 120))
    per_day = max(10, int(40 * ctx.scale))
    for day in range(min(10, int(ctx.days))):
        if day % 7 >= 5:
            continue
        t = ctx.start + day * DAY + rng.uniform(16, 17) * HOUR
        for _ in range(per_day):
            task = rng.choice(problems)
            turns = [rng.choice(BEGIN).format(task=task), *rng.sample(CONTINUE, rng.randint(1, 4))]
            if rng.random() < 0.6:
                turns.append(rng.choice(FINISH + tuple(FOLLOW_UPS[:3])))
            for i in range(1, len(turns) + 1):
                t, _ = yield from ask(t, Request(chat(turns[:i]), headers=stack))
                t += human_gap(rng, 50)
            t += rng.expovariate(per_day / (5 * HOUR))


def polyglot_fleet(acc: Account, ctx: Context) -> Behaviour:
    """Jobs of the company's services, each service with its own SDK, 7-20 h, five days."""
    rng = ctx.rng(acc)
    services = rng.sample(range(len(FLEET)), rng.randint(6, len(FLEET)))
    docs = list(ctx.pools.benign)
    rng.shuffle(docs)
    per_day = max(40, int(150 * ctx.scale))
    n = 0
    for day in range(min(5, int(ctx.days))):
        t = ctx.start + day * DAY + 7 * HOUR + rng.uniform(0, 600)
        for _ in range(per_day):
            service = rng.choice(services)
            text = FLEET_ASKS[service % len(FLEET_ASKS)].format(q=docs[n % len(docs)][:1200])
            n += 1
            payload = chat([text], max_tokens=rng.choice((256, 400, 600)))
            t, _ = yield from ask(t, Request(payload, headers=_stack(service)))
            t += rng.expovariate(per_day / (13 * HOUR))
