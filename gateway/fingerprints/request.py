"""Reading OpenAI-style request bodies: the prompt parts and the non-text features.

Endpoints: ``"chat"`` (``messages``: string content or a list of ``{type: text, text}``
parts; or the Responses API's ``input`` and ``instructions``), ``"completions"``
(``prompt``: a string, strings, token ids), ``"embeddings"`` (``input``: same shapes),
``"other"`` (whichever of those fields is present). Junk never raises: a non-dict body or
a missing field reads as an empty prompt with default features. A batch of prompts is
fingerprinted by its last one and counted whole.

A user *turn* is what the user said since the last answer: user messages in a row (a
paste, then "answer my message above"; a question split over two sends) are one turn,
fingerprinted together and counted once.

The *tail* of a chat is the text of the messages after the last user turn: an assistant
prefill (the requester's own words put at the start of the answer, "Let's think step by
step. 1.") or tool results (a pipeline's work item with its instructions). The requester
wrote or chose it for this request, so its wording is read with the user turn's (only for
the elicitation lexicon: the user turn stays what is fingerprinted).

A *continuation* ("continue" after a cut answer, :mod:`gateway.fingerprints.continuation`)
is the ask it continues: :attr:`PromptParts.ask` is that ask's text and
``RequestFeatures.continued`` the number of answer pieces so far. The last user turn's
pictures, recordings and files are digested (:mod:`gateway.fingerprints.media`, never
decoded): :attr:`PromptParts.media`.

A request's body is read once on the request path (:func:`prompt_parts`): its parts also
carry what :func:`request_features` would read again of the messages (the continuation's
pieces, the opener exchanges), and equal features are one shared instance (issue 13).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.apis import Api, api_of_kind
from gateway.fingerprints.chain import parent_ref
from gateway.fingerprints.continuation import continuation
from gateway.fingerprints.estimate import (
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    estimate_text_tokens,
    estimate_tokens_ids,
)
from gateway.fingerprints.media import is_image, is_media, media_digest
from gateway.fingerprints.opener import first_ask, opener_exchanges
from gateway.fingerprints.value import (
    asks_reasoning,
    resamples,
    returns_trace,
    trace_schema,
    worked_history,
)
from gateway.memo import BoundedMemo
from gateway.model import RequestFeatures

MAX_MESSAGES = 2_000  # messages looked at (from the end); the rest are estimated by count
MAX_TOOLS_CHARS = 200_000
SYSTEM_ROLES = ("system", "developer")


@dataclass(frozen=True, slots=True)
class PromptParts:
    last_user: str  # the text that is fingerprinted: the last user turn's messages
    system: str  # system / developer prompt text ("" when none)
    user_turns: int  # runs of user messages (see the module docstring)
    est_tokens: int  # estimated prompt tokens of the whole request
    tail: str = ""  # text of the messages after the last user turn ("" when none)
    media: int = 0  # digest of the last user turn's pictures, recordings, files (0: none)
    continued: int = 0  # a continuation: the answer pieces it continues (0: none)
    ask: str = ""  # a continuation: the text of the ask it continues
    # read once here for the request features too (chats only): the continuation's answer
    # pieces (also without an ask before them), the opener exchanges, the messages before
    # the MAX_MESSAGES looked at
    pieces: int = 0
    opened: int = 0
    skipped: int = 0


_NO_MEDIA: tuple[object, ...] = ()


def _content_text(content: object) -> tuple[str, int, Sequence[object]]:
    """(text, extra tokens for non-text parts, media parts) of a message ``content``. A
    picture adds ``IMAGE_TOKENS`` to the estimate; a recording or a file adds none (their
    tokens are settled from the upstream's usage)."""
    if isinstance(content, str):
        return content, 0, _NO_MEDIA
    if not isinstance(content, Sequence) or isinstance(content, bytes):
        return "", 0, _NO_MEDIA
    texts: list[str] = []
    media: list[object] = []
    extra = 0
    for part in content[:MAX_MESSAGES]:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping):
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
            elif is_media(part):
                extra += IMAGE_TOKENS if is_image(part) else 0
                media.append(part)
    return "\n".join(texts), extra, media or _NO_MEDIA


def _messages(body: Mapping[str, object]) -> Sequence[object]:
    """Chat ``messages``; or the Responses API's ``input`` (a string, or message items, with
    ``instructions`` as a system message)."""
    messages = body.get("messages")
    if type(messages) is list:  # JSON: the common case, without an ABC check
        return messages
    if isinstance(messages, Sequence) and not isinstance(messages, str | bytes):
        return messages
    if messages is not None or "input" not in body:
        return ()
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, Sequence) or isinstance(items, bytes):
        return ()
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        return [{"role": "system", "content": instructions}, *items]
    return items


def _chat(body: Mapping[str, object]) -> PromptParts:
    messages = _messages(body)
    if not messages:
        return PromptParts("", "", 0, 0)
    skipped = max(len(messages) - MAX_MESSAGES, 0)
    fallback, system = "", []
    tail: list[str] = []
    turns, tokens, last = 0, REPLY_PRIMING + skipped * MESSAGE_OVERHEAD, -1
    block = False  # the message before was the user's (system messages aside)
    for index, msg in enumerate(messages[skipped:], skipped):
        if type(msg) is not dict and not isinstance(msg, Mapping):
            continue
        text, extra, _ = _content_text(msg.get("content"))
        calls = msg.get("tool_calls")
        if calls:
            extra += estimate_text_tokens(_dumps(calls))
        name = msg.get("name")
        if isinstance(name, str):
            extra += estimate_text_tokens(name) + 1
        tokens += MESSAGE_OVERHEAD + estimate_text_tokens(text) + extra
        role = msg.get("role")
        if role == "user":
            turns += 0 if block else 1  # user messages in a row are one turn
            block, last = True, index
            tail.clear()
        elif role in SYSTEM_ROLES:
            system.append(text)
        else:
            block = False
            if text:
                fallback = text
                tail.append(text)
    for key in ("tools", "functions", "response_format"):
        if body.get(key):
            tokens += estimate_text_tokens(_dumps(body.get(key)))
    if not turns:  # no continuation and no opener without a user turn
        return PromptParts(fallback, "\n".join(system), turns, tokens, skipped=skipped)
    last_user, media = _turn_ending_at(messages, last, skipped)
    chain = continuation(messages)
    opened = opener_exchanges(messages)
    if chain.pieces and chain.ask >= 0:
        ask, asked = _turn_ending_at(messages, chain.ask)
        digest = media_digest(asked) if asked else 0
        return PromptParts(
            last_user, "\n".join(system), turns, tokens, "", digest, chain.pieces, ask,
            chain.pieces, opened, skipped,
        )  # fmt: skip
    digest = media_digest(media) if media else 0
    return PromptParts(
        last_user, "\n".join(system), turns, tokens, "\n".join(tail), digest,
        pieces=chain.pieces, opened=opened, skipped=skipped,
    )  # fmt: skip


def _turn_ending_at(
    messages: Sequence[object], index: int, start: int = 0
) -> tuple[str, Sequence[object]]:
    """The text and media parts of the user turn whose last message is ``messages[index]``:
    the user messages in a row up to it, back to ``start`` at most (system messages and
    entries that are not messages between them aside). The one reading of a turn."""
    texts: list[str] = []
    media: list[object] = []
    for i in range(index, start - 1, -1):
        msg = messages[i]
        if type(msg) is not dict and not isinstance(msg, Mapping):
            continue
        role = msg.get("role")
        if role in SYSTEM_ROLES:
            continue
        if role != "user":
            break
        text, _, parts = _content_text(msg.get("content"))
        if text:
            texts.append(text)
        media[:0] = parts
    return "\n".join(reversed(texts)), media or _NO_MEDIA


def first_ask_text(body: object, endpoint: str, opened: int | None = None) -> str:
    """Later in a chat (its last user turn is not its first real ask, after pleasantry
    exchanges): the text of that first ask, the conversation's identity ("" when the request
    is the first ask, when that ask has media parts, whose digest its exact hash mixes in, or
    for other endpoints). Read after the response (detection), not on the request path.
    ``opened``: the chat's opener exchanges when already counted (``PromptParts.opened``)."""
    if type(body) is not dict and not isinstance(body, Mapping):
        return ""
    if endpoint != "chat" and (endpoint in ("completions", "embeddings") or "messages" not in body):
        return ""
    messages = _messages(body)
    last = next((i for i in range(len(messages) - 1, -1, -1) if _role(messages[i]) == "user"), -1)
    index = first_ask(messages, opener_exchanges(messages) if opened is None else opened)
    if index < 0 or index >= last:
        return ""
    msg = messages[index]
    text, _, media = _content_text(msg.get("content") if isinstance(msg, Mapping) else "")
    return "" if media else text


def _role(msg: object) -> object:
    return msg.get("role") if type(msg) is dict or isinstance(msg, Mapping) else None


def _prompts(value: object) -> PromptParts:
    """``prompt`` / ``input``: a string, a list of strings, token ids, lists of token ids."""
    if isinstance(value, str):
        return PromptParts(value, "", 1, estimate_text_tokens(value))
    if not isinstance(value, Sequence) or isinstance(value, bytes) or not value:
        return PromptParts("", "", 0, 0)
    texts = [v for v in value if isinstance(v, str)]
    tokens = sum(estimate_text_tokens(t) for t in texts)
    ids = [v for v in value if isinstance(v, Sequence) and not isinstance(v, str | bytes)]
    tokens += sum(estimate_tokens_ids(len(v)) for v in ids)
    tokens += sum(1 for v in value if isinstance(v, int) and not isinstance(v, bool))
    return PromptParts(texts[-1] if texts else "", "", 1, tokens)


def _dumps(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:MAX_TOOLS_CHARS]
    except (TypeError, ValueError, RecursionError):
        return ""


def prompt_parts(body: object, endpoint: str) -> PromptParts:
    """Split a request body into what is fingerprinted and what is only counted."""
    if type(body) is not dict and not isinstance(body, Mapping):
        return PromptParts("", "", 0, 0)
    if endpoint == "chat" or (endpoint not in ("completions", "embeddings") and "messages" in body):
        return _chat(body)
    if endpoint == "completions" or (endpoint != "embeddings" and "prompt" in body):
        return _prompts(body.get("prompt"))
    return _prompts(body.get("input"))


def _int(
    value: object, default: int | None = None, low: int = 0, high: int = 1 << 31
) -> int | None:
    if value is None:  # the common case: the field is absent
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return default
    return int(min(max(value, low), high))


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if isinstance(key, str) and key.lower() == name:
                return val
    return value


def request_features(
    body: object,
    endpoint: str,
    headers: Mapping[str, str] | None = None,
    client_stack: int = 0,
    parts: PromptParts | None = None,
    api: Api | None = None,
) -> RequestFeatures:
    """Non-text properties of a request (what a harvester's client tends to set);
    ``client_stack``: the hash of the client software, made from the headers by the caller;
    ``parts``: the body's :func:`prompt_parts` when the caller has them (a chat's messages
    are then not read again for its turns, continuation and openers); ``api``: the API the
    body was sent to (:mod:`gateway.apis`; default: the one of ``endpoint``, Chat Completions
    for ``"chat"``), which names the field limiting the answer's length read as
    ``max_tokens`` (the Responses API's ``max_output_tokens``) and how log probabilities
    are asked for (the Responses API: in ``include``)."""
    b: Mapping[str, object] = body if type(body) is dict or isinstance(body, Mapping) else {}
    chat = endpoint == "chat"
    messages = _messages(b) if chat else ()
    if chat and parts is None:
        parts = prompt_parts(b, endpoint)
    model = b.get("model")
    options = b.get("stream_options")
    logprobs = b.get("logprobs")
    top = _int(b.get("top_logprobs"))
    if endpoint != "chat" and not isinstance(logprobs, bool) and isinstance(logprobs, int):
        top = _int(logprobs) if top is None else top  # completions: logprobs is a count
    api = api or api_of_kind(endpoint)
    max_tokens = None
    for name in api.output_fields:  # the first one present
        max_tokens = _int(b.get(name))
        if max_tokens is not None:
            break
    retry = _header(headers, "x-stainless-retry-count")
    turns = 1
    if chat and parts is not None:
        turns = max(parts.user_turns if not parts.skipped else _chat_turns(messages), 1)
    values = (  # in the order of RequestFeatures' fields
        endpoint,
        model if isinstance(model, str) else "",
        b.get("stream") is True,
        isinstance(options, Mapping) and options.get("include_usage") is True,
        max_tokens,
        _int(b.get("n"), 1, 1, 1 << 16) or 1,
        logprobs is True
        or (not isinstance(logprobs, bool) and _int(logprobs) is not None)
        or (bool(api.logprobs_include) and _included(b.get("include"), api.logprobs_include)),
        top,
        isinstance(b.get("logit_bias"), Mapping) and bool(b.get("logit_bias")),
        turns,
        _int(_parse_int(retry), 0, 0, 1000) or 0,
        client_stack,
        trace_schema(b) if chat else 0,
        worked_history(messages) if chat else 0,
        asks_reasoning(b),
        resamples(b),
        parts.pieces if chat and parts is not None else 0,
        parts.opened if chat and parts is not None else 0,
        returns_trace(b),
        parent_ref(b) if api.stored else 0,
    )
    return _interned(values)


# Request features recur (one client sends one shape of request): equal features are one
# shared instance, remembered for the FEATURES_REMEMBERED latest shapes (then all
# forgotten) whose model name is at most MODEL_CHARS long (the memory stays bounded
# whatever a client sends). A frozen dataclass costs more to build than to look up; the
# sighting codec encodes a shared instance once (gateway.sightings.codec). A module global:
# request_features is a plain function with callers outside any one owner object.
FEATURES_REMEMBERED = 4_096
MODEL_CHARS = 128
_FEATURES: BoundedMemo[tuple[object, ...], RequestFeatures] = BoundedMemo(FEATURES_REMEMBERED)


def _interned(values: tuple[object, ...]) -> RequestFeatures:
    """The features of these field values (each position of one type, so equal tuples
    are equal features; the model name is the second)."""
    found = _FEATURES.get(values)
    if found is None:
        found = RequestFeatures(*values)  # type: ignore[arg-type]
        if len(values[1]) <= MODEL_CHARS and not values[-1]:  # type: ignore[arg-type]
            _FEATURES.put(values, found)  # a parent ref is one request's: never shared
    return found


def _included(include: object, entry: str) -> bool:
    """Whether a Responses ``include`` list asks for ``entry``."""
    return isinstance(include, list) and entry in include


def _chat_turns(messages: Sequence[object]) -> int:
    """The user turns of a chat: runs of user messages with no answer between them."""
    turns, block = 0, False
    for m in messages:
        if type(m) is not dict and not isinstance(m, Mapping):
            continue  # not a message: as the chat's own reading skips it
        role = m.get("role")
        if role == "user":
            turns += 0 if block else 1
            block = True
        elif role not in SYSTEM_ROLES:
            block = False
    return turns


def _parse_int(value: str | None) -> int | None:
    if not value:  # absent or empty (most requests): no exception raised and caught
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
