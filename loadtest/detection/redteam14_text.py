"""Texts and bodies of red-team round 14 (strategies and look-alikes share them): the ask
sent before the task or kept by the provider instead of sent.

* a stored prompt (Responses API ``prompt: {id, version, variables}``): the instructions
  live in the provider's dashboard, a request names them and sends its input;
* a stored response chain (``previous_response_id``): the instructions sat in an earlier,
  stored request; a later request sends only its new input;
* an app's opening line: the assistant's greeting (the first message of the history, before
  the user's) says how it will answer.
"""

from __future__ import annotations

import random
from typing import Any

RESPONSES = "/v1/responses"

CHAIN_SETUPS = (
    "For every problem I send after this message, show all of your working step by step "
    "before the answer. Reply OK for now.",
    "From now on: each message will be one word problem. Think it through step by step and "
    "show every intermediate result, then the answer. Just say ready.",
)
# the opening line of a made-up maths app's chat, the history's first (assistant) message
GREETINGS = (
    "Hi! I'm your maths coach. Send me any problem and I'll solve it step by step, showing "
    "all of my reasoning before the final answer.",
    "Hello! Paste a question and I will walk through the full reasoning, one step at a "
    "time, and then give the answer.",
    "Welcome back. Give me a word problem: I explain every step of my thinking, then state "
    "the final answer on its own line.",
)
# what an operator's stored prompt takes as variables (the grade, the subject): no ask
VARIABLES = ({"grade": "8"}, {"subject": "arithmetic"}, {"level": "middle school"})


def oid(prefix: str, rng: random.Random) -> str:
    """An object id as the provider writes them (``pmpt_...``, ``resp_...``)."""
    return f"{prefix}_{rng.getrandbits(96):024x}"


def message(role: str, text: str) -> dict[str, Any]:
    """A Responses message item of one ``input_text`` part."""
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def prompt_call(
    pid: str, version: str, variables: dict[str, str], text: str, **params: Any
) -> dict[str, Any]:
    """A Responses body that names a stored prompt, fills its variables and sends ``text``
    as the input."""
    prompt = {"id": pid, "version": version, "variables": variables}
    return {"model": params.pop("model", "gpt-4.1"), "prompt": prompt, "input": text, **params}


def chained(text: str, previous: str, **params: Any) -> dict[str, Any]:
    """A Responses body continuing the stored response ``previous`` with ``text`` only."""
    return {
        "model": params.pop("model", "gpt-4.1"),
        "input": [message("user", text)],
        "previous_response_id": previous,
        "store": True,
        **params,
    }
