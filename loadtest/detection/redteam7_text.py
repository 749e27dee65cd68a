"""Texts and request shapes of red-team round 7: the asks of its strategies (pairwise
preferences, tool calls, one next step at a time, relayed and revisited traces, two-turn drips)
and the product prompts of its look-alikes."""

from __future__ import annotations

import random
from typing import Any

from loadtest.detection.redteam4_text import NUMBER

# Preference labels (RLAIF / DPO): two candidate replies, the teacher picks one.
PREFER = (
    "Question: {task}\n\nResponse A:\n{a}\n\nResponse B:\n{b}\n\nWhich response is better? "
    "Reply with A or B, then one sentence.",
    "{task}\n\n[A]\n{a}\n\n[B]\n{b}\n\nA or B? One line on why.",
    "Two replies to the same question.\nQ: {task}\n\nA: {a}\n\nB: {b}\n\nWhich one would you "
    "send to the user? Just the letter and a short reason.",
    "Prompt: {task}\nA) {a}\nB) {b}\nPrefer A or B?",
)
PLAIN_REPLIES = (
    "The answer is {n}.",
    "It comes to {n}.",
    "{n}",
    "I think it's {n}, but I'm not completely sure.",
)

# Function-calling data: a synthetic API catalogue, a calculator among it, tool_choice auto.
CALCULATORS = (
    ("calculate", "Evaluate an arithmetic expression and return the number.", "expression"),
    ("math_eval", "Compute the value of a math expression.", "expr"),
    ("python_eval", "Run a one-line Python expression and return its value.", "code"),
    ("calc", "A calculator. Supports + - * / ** and parentheses.", "input"),
)
CATALOGUE = (
    ("get_weather", "Current weather for a city.", ("city", "unit")),
    ("convert_currency", "Convert an amount between currencies.", ("amount", "from", "to")),
    ("convert_units", "Convert a quantity between units.", ("value", "from_unit", "to_unit")),
    ("search_web", "Search the web and return the top results.", ("query",)),
    ("create_reminder", "Create a reminder at a time.", ("text", "when")),
    ("get_stock_price", "Latest price of a stock ticker.", ("ticker",)),
    ("lookup_recipe", "Find a recipe by dish name.", ("dish", "servings")),
    ("send_email", "Send an email.", ("to", "subject", "body")),
    ("get_calendar", "Events on a date.", ("date",)),
    ("translate_text", "Translate text to a language.", ("text", "target")),
    ("get_distance", "Driving distance between two places.", ("origin", "destination")),
    ("book_table", "Book a restaurant table.", ("restaurant", "time", "people")),
)
TOOL_LEADS = ("", "", "", "Use the tools if you need them.", "hey", "Quick one:", "Please answer:")


def tool(name: str, description: str, params: tuple[str, ...]) -> dict[str, Any]:
    """An OpenAI ``tools`` entry whose parameters are all required strings."""
    props = {p: {"type": "string"} for p in params}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": props, "required": list(params)},
        },
    }


def tool_catalogue(rng: random.Random) -> tuple[list[dict[str, Any]], str, str]:
    """A request's tools (a calculator and two to four others, shuffled), the calculator's
    name and its argument."""
    name, description, arg = rng.choice(CALCULATORS)
    tools = [tool(name, description, (arg,))]
    tools += [tool(n, d, p) for n, d, p in rng.sample(CATALOGUE, rng.randint(2, 4))]
    rng.shuffle(tools)
    return tools, name, arg


def expression(rng: random.Random, task: str) -> str:
    """The arithmetic a model would put in the calculator call (numbers from the task)."""
    nums: list[str] = NUMBER.findall(task)[:4] or [str(rng.randint(2, 40))]
    out = nums[0]
    for n in nums[1:]:
        out += f" {rng.choice('+*-/')} {n}"
    return out


# One next step at a time: the state so far in the user turn, a one-line answer out.
NEXT = (
    "Problem: {task}\n\nWorked out so far:\n{known}\n\nWhat should be worked out next? Give only "
    "that one line: the quantity and its value.",
    "{task}\n\nSo far:\n{known}\n\nNext line only.",
    "Task: {task}\nDone so far:\n{known}\nWhat is the next step? One line, no explanation.",
    "{task}\n\nWe have:\n{known}\n\nWhat do we compute now? Just the next line.",
)
FINAL = (
    "Problem: {task}\n\nWorked out so far:\n{known}\n\nWhat is the final answer? One line.",
    "{task}\n\nSo far:\n{known}\n\nFinal answer only.",
    "Task: {task}\nDone so far:\n{known}\nSo the answer is? One line.",
    "{task}\n\nWe have:\n{known}\n\nAnd the answer to the question is?",
)
NOTHING = "(nothing yet)"


def steps(rng: random.Random, task: str) -> list[str]:
    """Intermediate lines of a solution (numbers from the task), two to four of them."""
    nums = [float(n) for n in NUMBER.findall(task)][:5] or [float(rng.randint(3, 40))]
    while len(nums) < 3:
        nums.append(float(rng.randint(2, 12)))
    out, total = [], nums[0]
    for n in nums[1:]:
        op = rng.choice(("+", "*", "-"))
        new = total + n if op == "+" else total * n if op == "*" else total - n
        out.append(f"{total:g} {op} {n:g} = {new:g}")
        total = new
    return out


# Plain reasoning asks (wording a chain-of-thought lexicon reads), paraphrased per request.
COT_ASKS = (
    "Think step by step and show your reasoning.",
    "Work through it step by step, then give the final answer.",
    "Explain your reasoning step by step before answering.",
    "Show your step-by-step reasoning.",
    "Reason through it step by step; final answer on the last line.",
    "Let's think step by step.",
)
COT_LEADS = ("", "", "Quick one:", "Can you help with this?", "Question:", "hey,", "Next one.")
COT_TAILS = ("", "", "thanks", "Thank you!", "ty", "cheers")


def cot_ask(rng: random.Random, task: str) -> str:
    """A paraphrased reasoning ask: a lead, the task and a step-by-step request in either
    order, a tail; no two accounts share a frame."""
    cot = rng.choice(COT_ASKS)
    body = [cot, task] if rng.random() < 0.3 else [task, cot]
    parts = [rng.choice(COT_LEADS), *body, rng.choice(COT_TAILS)]
    return "\n\n".join(p for p in parts if p)


# Relay: a conversation's turns sent by different members of a squad.
RELAY_NEXT = (
    "go on",
    "ok, continue",
    "and then?",
    "keep going from there",
    "right, what comes after that?",
)
RELAY_FINISH = (
    "finish it off",
    "ok, and the final answer?",
    "wrap it up",
    "so what's the result?",
)
RELAY_PIECE = (
    "First, let's name what the problem gives us and what it asks for.",
    "Next we combine those quantities in the order the problem describes.",
    "That intermediate value now feeds the last part of the question.",
)

# Revisits and follow-ups of one's own harvested tasks (camouflage from the harvest itself).
MATH_FOLLOW = (
    "what if the numbers were doubled?",
    "can you check that a different way?",
    "wait, why that operation there?",
    "ok thanks. is there a shortcut?",
    "I got something else, can you look again?",
)
REVISIT = (
    "I tried this one again and got {n}. Is that right?\n\n{task}",
    "Back to this one, I still don't get it:\n\n{task}",
    "{task}\n\nCan you do this one again, a different way this time?",
    "Revising for a test. {task}",
)

# Two-turn drip: a chatty first turn, a stub answer, then the task.
OPENERS = (
    "hi",
    "hello! can you help me with some homework?",
    "are you there?",
    "I have a few questions for you",
    "good morning",
    "hey, quick favour",
)
OPENER_REPLIES = (
    "Of course! What would you like help with?",
    "Hi! Sure, go ahead.",
    "Yes, I'm here. What's the question?",
    "Happy to help. What do you need?",
)

# Look-alikes' product texts.
JUDGE_SYSTEM = (
    "You compare two assistant replies to the same user message for our weekly A/B test. "
    "Answer 'A' or 'B' and one short sentence."
)
JUDGE_ASK = "User message:\n{q}\n\nReply A:\n{a}\n\nReply B:\n{b}\n\nWhich reply is better?"
JUDGE_REPLIES = (
    "Sure! Here is a short answer to your question with the key points first.",
    "Great question. Let me explain in a few sentences, then give you an example.",
    "I can help with that. The short version: it depends on your setup; here are the options.",
    "Here is what I would do, step one being the simplest.",
)
ASSISTANT_SYSTEM = (
    "You are Pocket, a friendly personal assistant. Use the tools when they help: the "
    "calculator for any arithmetic, weather, unit conversion, reminders and the calendar."
)
ASSISTANT_TOOLS = (
    ("calculate", "Evaluate an arithmetic expression.", ("expression",)),
    ("get_weather", "Current weather for a city.", ("city", "unit")),
    ("convert_units", "Convert a quantity between units.", ("value", "from_unit", "to_unit")),
    ("create_reminder", "Create a reminder at a time.", ("text", "when")),
    ("get_calendar", "Events on a date.", ("date",)),
)
HINT_SYSTEM = (
    "You are the hint button of a maths practice app. Give ONE short hint about the next thing "
    "the student should do. Never give the final answer."
)
HINT_ASK = "Problem: {task}\n\nMy working so far:\n{known}\n\nWhat should I do next?"
DESK_SYSTEM = (
    "You are the assistant of a customer support desk. Draft the agent's next reply to the "
    "customer in the thread; be brief and polite."
)
DESK_NEXT = (
    "Customer replied: thanks, but it still doesn't work",
    "Customer replied: ok, what should I try next?",
    "Customer replied: can you give me an update?",
    "Customer replied: that fixed it, thank you",
)
DESK_DRAFT = "Thanks for your patience. Could you try the following and let me know?"
