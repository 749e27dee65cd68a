"""Red-team round 13 benign look-alikes: honest customers with the surface of round 13's
strategies, which a defence that closed those holes naively would hurt.

* ``support_agent``: a SaaS company's support agent (one product key, a worker
  User-Agent) built on an agent framework that ships the ``think`` tool: every customer
  message once under a fixed system prompt and catalogue (``think``, order look-up,
  refund, ``final_answer``), 40 % with a second request after a look-up's result; every
  day 7-22 h; the surface of ``think_tool``.
* ``exam_prep``: an exam-prep app's "explain" button (one product key): a question bank of
  300 multiple-choice items (popular ones again and again), "why is it this one and not the
  others?"; evenings and weekend days; the surface of ``mcq_elim``.
* ``resp_assistant``: a developer's own assistant on the Responses API (a personal key):
  questions as input items to o4-mini with its reasoning summary shown (as chat apps show
  "thinking"), a quarter "walk me through it step by step", follow-ups chained
  by ``previous_response_id``; evenings; the surface of ``summary``.
"""

from __future__ import annotations

import json
import random
from typing import Any

from loadtest.detection.context import Context, ask
from loadtest.detection.pace import human_gap
from loadtest.detection.redteam12_personas import _days
from loadtest.detection.redteam13_text import (
    ANSWER_TOOL,
    THINK_TOOL,
    mcq,
    options,
    response_items,
)
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

AGENT_STACK = {"User-Agent": "helpdesk-agent/4.1 openai-agents/0.2.9 OpenAI/Python 1.99.1"}
AGENT_SYSTEM = (
    "You are Nimbus Support's agent. Help the customer with their account, orders and "
    "billing. Look orders up before answering; refunds only under 30 days."
)
ORDER_TOOLS = [
    THINK_TOOL,
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Fetch an order by its id.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "issue_refund",
            "description": "Refund an order.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["order_id", "reason"],
            },
        },
    },
    ANSWER_TOOL,
]
EXAM_STACK = {"User-Agent": "PassMate/3.8 (iPhone; iOS 17.5) okhttp-free"}
EXAM_SYSTEM = "You explain exam practice questions to students. Be clear and short."
EXAM_ASKS = (
    "Why is it this one and not the others?",
    "I picked the wrong one. Why is each of the others wrong?",
    "Explain the answer please.",
)
RESP_STACK = {"User-Agent": "OpenAI/Python 1.99.1"}
RESP_ASKS = ("", "", "Walk me through it step by step.", "Short answer please.")
RESP_FOLLOW_UPS = ("Why?", "Can you give an example?", "And if it were the other way round?")


def support_agent(acc: Account, ctx: Context) -> Behaviour:
    """Every day 7-22 h, customer messages at a Poisson rate, each once; 40 % a second
    request with an order look-up's result."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.benign)
    per_day = max(10, int(20 * ctx.scale))
    for t in _days(ctx, rng, (7, 7.5), (7, 7.5)):
        end = t - (t - ctx.start) % DAY + 22 * HOUR
        while t < end:
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": AGENT_SYSTEM},
                {"role": "user", "content": rng.choice(pool)[:1500]},
            ]
            payload = {"model": "gpt-4.1-mini", "messages": messages, "tools": ORDER_TOOLS}
            t, _ = yield from ask(t, Request(payload, headers=AGENT_STACK))
            if rng.random() < 0.4:
                order = f"NB-{rng.randint(10_000, 99_999)}"
                call = {
                    "id": f"call_{rng.getrandbits(48):012x}",
                    "type": "function",
                    "function": {
                        "name": "lookup_order",
                        "arguments": json.dumps({"order_id": order}),
                    },
                }
                result = {"order_id": order, "status": "delivered", "days_ago": rng.randint(1, 60)}
                payload = {
                    **payload,
                    "messages": [
                        *messages,
                        {"role": "assistant", "content": None, "tool_calls": [call]},
                        {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)},
                    ],
                }
                t, _ = yield from ask(t + rng.uniform(1, 3), Request(payload, headers=AGENT_STACK))
            t += rng.expovariate(per_day / (15 * HOUR))


def exam_prep(acc: Account, ctx: Context) -> Behaviour:
    """Evenings (weekends: from 10 h), 10-40 explanations a session, Zipf over the bank."""
    rng = ctx.rng(acc)
    bank_rng = random.Random("red13-exam-bank")
    bank = [mcq(task, options(task, bank_rng)) for task in list(ctx.pools.harvest)[:300]]
    weights = [1 / (k + 1) for k in range(len(bank))]
    for t in _days(ctx, rng, (17, 19), (10, 12)):
        for _ in range(rng.randint(10, 40)):
            item = rng.choices(bank, weights)[0]
            messages = [
                {"role": "system", "content": EXAM_SYSTEM},
                {"role": "user", "content": f"{item}\n\n{rng.choice(EXAM_ASKS)}"},
            ]
            payload = {"model": "gpt-4o-mini", "messages": messages, "max_tokens": 500}
            t, _ = yield from ask(t, Request(payload, headers=EXAM_STACK))
            t += human_gap(rng, 60)


def resp_assistant(acc: Account, ctx: Context) -> Behaviour:
    """Evenings, two to eight questions as input items, 0-2 follow-ups chained by
    ``previous_response_id``."""
    rng = ctx.rng(acc)
    pool = list(ctx.pools.benign)
    for t in _days(ctx, rng, (19, 21.5), (10, 20)):
        for _ in range(rng.randint(2, 8)):
            text = f"{rng.choice(pool)[:1200]}\n\n{rng.choice(RESP_ASKS)}"
            payload = response_items(text, model="o4-mini", store=True)
            t, out = yield from ask(t, Request(payload, headers=RESP_STACK, path="/v1/responses"))
            for up in rng.sample(RESP_FOLLOW_UPS, rng.choice((0, 1, 1, 2))):
                if not out.response_id:
                    break  # no answer to continue
                t += human_gap(rng, 60)
                follow = {
                    **response_items(up, model="o4-mini", store=True),
                    "previous_response_id": out.response_id,
                }
                t, out = yield from ask(
                    t, Request(follow, headers=RESP_STACK, path="/v1/responses")
                )
            t += human_gap(rng, 600)
