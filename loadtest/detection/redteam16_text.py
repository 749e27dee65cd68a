"""Texts and bodies of red-team round 16 (strategies and look-alikes share them): the ask
said once, in a chat's own history or in stored state, and the bare tasks after it.

* a standing ask: "for every problem I send, show all your working", said once as the first
  user message of a chat (sent again with the history, or stored by the provider);
* a stored root named by ``previous_response_id``: by the account's own chat (a growing
  chain), by another account of the operation (a sibling's root), or streamed (the root's
  id comes back inside the event stream, not in a JSON body);
* the look-alikes' words: a student's revision chat, a team's shared morning brief, a
  streamed homework chat.
"""

from __future__ import annotations

import random
from typing import Any

from loadtest.detection.redteam14_text import chained, message

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"

# a standing ask, said once (a chain's root, a chat's first user message): each account
# composes its own wording (an opening, the instruction, a closing), so no two accounts of
# the operation share a text
ASK_OPENINGS = (
    "I'm going to send you maths word problems one at a time.",
    "Quick setup before we start.",
    "I'll paste some practice questions in this chat.",
    "Next I'll give you a series of word problems.",
    "We're going to go through a problem set together.",
)
ASK_INSTRUCTIONS = (
    "For each one, show all of your working step by step, then give the final answer.",
    "Think each one through step by step and write out every intermediate result before "
    "the answer.",
    "With each question, explain your reasoning one step at a time and finish with the "
    "answer on its own line.",
    "Please work through each problem step by step, showing your reasoning, and state the "
    "answer at the end.",
    "For every problem, lay out the full reasoning in numbered steps before the result.",
    "Show your work for each problem: every step of the calculation, then the answer.",
)
ASK_CLOSINGS = ("Reply ready.", "Say OK when you're ready.", "Just confirm for now.", "")
STANDING_ASKS = tuple(
    f"{o} {i} {c}".strip() for o in ASK_OPENINGS for i in ASK_INSTRUCTIONS for c in ASK_CLOSINGS
)
# what a chain's later message says before its task (a person's "next one")
NEXT_LEADS = ("", "", "Next:", "Next one.", "ok, another one:", "Problem:", "And this one?")
FIXED_ACK = "Ready! Send the first problem."

# look-alikes: a student revising (the same opening a revision chat has), a team's brief
STUDY_OPENINGS = (
    "I'm revising for my maths test tomorrow. For each problem I paste, walk me through it "
    "step by step please",
    "can you help me study? I'll send problems from our textbook, explain each one step by "
    "step so I understand",
    "hi! I have a test on word problems. Please show your working for every question I send",
)
STUDY_FOLLOW_UPS = ("why?", "I don't get the second step", "ok next one", "thank you!!")
TUTOR_FOLLOW_UPS = ("wait how", "can u check my answer", "what formula is that", "ok")
BRIEF_TOPICS = ("the billing service", "the mobile release", "the data pipeline", "onboarding")
BRIEF = (
    "Context for today's review queue ({topic}): our team answers questions from engineers "
    "and support. When you answer, explain your reasoning step by step so a reviewer can "
    "check it, and say when you are unsure. Reply 'noted'."
)
TUTOR_OPENERS = (
    "can you help me with my homework? explain each step",
    "I need help with maths homework",
    "hi, I'll send some questions from my worksheet",
)


def lead(task: str, rng: random.Random) -> str:
    """A chain's later message: the task, at times after a short "next one"."""
    head = rng.choice(NEXT_LEADS)
    return f"{head}\n\n{task}" if head else task


def root(text: str, **params: Any) -> dict[str, Any]:
    """A stored Responses request opening a chain with ``text``."""
    return {"model": params.pop("model", "gpt-4.1"), "input": text, "store": True, **params}


def streamed(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` sent as an event stream (what chat front ends and most SDK examples do)."""
    return {**payload, "stream": True}


def branch(text: str, previous: str, **params: Any) -> dict[str, Any]:
    """A stored Responses request continuing ``previous`` with ``text`` only."""
    return chained(text, previous, **params)


def preamble_chat(ask: str, ack: str, task: str, **params: Any) -> dict[str, Any]:
    """A chat whose first user message is the standing ask, the served reply to it, then
    the bare task as the last user turn."""
    turns = [
        {"role": "user", "content": ask},
        {"role": "assistant", "content": ack},
        {"role": "user", "content": task},
    ]
    return {"model": params.pop("model", "gpt-4o-mini"), "messages": turns, **params}


def user_item(text: str) -> dict[str, Any]:
    """A Responses input message item (re-exported for the look-alikes)."""
    return message("user", text)
