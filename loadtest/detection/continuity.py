"""Honest clients resend what they were served: the assistant turns of a continued chat.

A chat client keeps the conversation and resends it with the next user turn, so the assistant
turns of a follow-up are the answers the model gave that client. The kit's personas build
their histories with a placeholder (``pace.ASSISTANT_STUB`` or a canned reply); for the
personas whose product resends its own conversation, the runner puts the answers the gateway
actually returned in their place, here, in one spot, instead of in every persona.

The rule is structural, not per persona: an assistant turn is replaced when the messages
before it (after earlier replacements; system messages left out, as an app may change its
system prompt under a running chat) are exactly a request this account was served; its
answer takes the turn's place. A history whose beginning the account never sent (a thread
taken over, few-shot examples written by hand, a trimmed history) matches no served request
and stays as the persona wrote it. Tool calls (assistant turns without text) stay as they
are: the mock answers text only.

Harvest strategies are never rewritten: they send exactly what their authors wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from loadtest.detection.traffic import Account, Request

# Honest personas whose product sends assistant turns it was not served (by design), and why.
KEEPS_SYNTHETIC: Mapping[str, str] = {
    # the app's template carries fixed worked examples as user/assistant pairs (few-shot)
    "red4_few_shot_app": "few-shot examples written into the app's template",
    # a ticketing system resends the reply the agent sent the customer (an edited draft,
    # possibly drafted under another agent's key), not the raw answer of this account
    "red7_handoff_desk": "a thread handed over between agents, replies as sent to the customer",
}
PER_ACCOUNT = 512  # served answers remembered per account (a chat resumes within a few turns)


def resends_served(acc: Account) -> bool:
    """Whether ``acc``'s client resends the answers it was served (honest, not exempted)."""
    return acc.role == "benign" and acc.scenario not in KEEPS_SYNTHETIC


def answer_text(payload: Mapping[str, Any]) -> str:
    """The first choice's text of a chat or legacy completion response ('' if none)."""
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    first = choices[0]
    message = first.get("message")
    content = message.get("content") if isinstance(message, dict) else first.get("text")
    return content if isinstance(content, str) else ""


def _is_text_answer(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and message.get("role") == "assistant"
        and isinstance(message.get("content"), str)
        and not message.get("tool_calls")
    )


def prefix_key(messages: list[Any]) -> bytes:
    """Digest of a conversation's non-system messages (what the answer continues)."""
    kept = [m for m in messages if not (isinstance(m, dict) and m.get("role") == "system")]
    raw = json.dumps(kept, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).digest()


class ServedAnswers:
    """Per account, the answers served to it keyed by the conversation they continue."""

    def __init__(self, per_account: int = PER_ACCOUNT) -> None:
        self._per_account = per_account
        self._answers: dict[str, OrderedDict[bytes, str]] = {}

    def resend(self, account: str, request: Request) -> Request:
        """``request`` with every assistant text turn that continues a conversation served to
        ``account`` replaced by the answer served (the request itself if nothing changes)."""
        messages = request.body.get("messages")
        served = self._answers.get(account)
        if not isinstance(messages, list) or not served:
            return request
        out = list(messages)
        changed = False
        for i, message in enumerate(out):
            if not _is_text_answer(message):
                continue
            answer = served.get(prefix_key(out[:i]))
            if answer is not None and answer != message["content"]:
                out[i] = {**message, "content": answer}
                changed = True
        return replace(request, body={**request.body, "messages": out}) if changed else request

    def record(self, account: str, request: Request, answer: str) -> None:
        """Remember ``answer`` as served to ``account`` for ``request`` (as sent)."""
        messages = request.body.get("messages")
        if not isinstance(messages, list) or not answer:
            return
        served = self._answers.setdefault(account, OrderedDict())
        key = prefix_key(messages)
        served[key] = answer
        served.move_to_end(key)
        while len(served) > self._per_account:
            served.popitem(last=False)
