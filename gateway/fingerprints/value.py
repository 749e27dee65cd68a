"""Value carried by a request's structure, not its wording (request features, pure).

A harvester wants the valuable answer (a reasoning trace, worked solutions); it can drop
every chain-of-thought word from its asks, not the structure that gets it the answer:

* :func:`trace_schema`: a structured-output schema (``response_format`` json_schema, the
  Responses API's ``text.format``) or a forced function call whose parameters ask for a
  trace: an array property (the steps) followed by another property (the answer). Read from
  the schema's shape (types and order of its top-level properties), not from field names.
* :func:`worked_history`: earlier assistant turns (answers, not tool calls) in the history,
  then a new full-length ask: exemplar harvesting, or an app's fixed few-shot exemplars.
* :func:`asks_reasoning`: reasoning-model effort (``reasoning_effort``, ``reasoning.effort``,
  ``thinking`` with a budget).
* :func:`returns_trace`: the reasoning itself asked back with the answer (the Responses
  API's ``reasoning.summary``, ``thinking`` enabled, ``include_reasoning``): a trace asked
  for by a parameter instead of words, read as the lexicon's strongest ask.
* :func:`resamples`: ``best_of`` > 1, or a fixed seed with a sampling temperature (the same
  task drawn again and again).

The first two return a 16-bit *print* (never 0; 0: absent) of the structure: the same for a
product that sends one schema or one exemplar set with every request, different when the
structure changes from request to request (see ``gateway.detection.detectors``: only a
varying structure counts). A print is no secret and no identifier (CRC-32 bits of property
names, a mix of answer lengths): it only tells one structure from another.

Cost: a few dict lookups; the schema is never serialised, only its top-level property names
are hashed (at most :data:`MAX_PROPERTIES`); the history is walked once (the
:data:`MAX_HISTORY` messages before the last); measured with ``timeit`` in
loadtest/reports/README.md (round 15a).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

MAX_PROPERTIES = 32  # top-level schema properties looked at
MAX_HISTORY = 8  # messages looked at before the last (a few shots' asks and answers)
# Worked answers to earlier tasks, then a new task: WORKED_TURNS assistant answers, as many
# earlier user turns of task length (WORKED_ASK_CHARS; tuning-split tasks: 93 % are), and a
# last user turn of WORKED_LAST_CHARS or more (98.5 %). An honest conversation has one
# task-length ask, then follow-ups ("ok, and then?", "Can you explain that more simply?").
WORKED_ASK_CHARS = 60
WORKED_LAST_CHARS = 40
WORKED_TURNS = 2
EFFORT = frozenset({"medium", "high", "xhigh"})
THINKING_BUDGET = 1024  # thinking.budget_tokens from which thinking counts
RESAMPLE_TEMPERATURE = 0.5  # a seed at this temperature or above is resampling


def _print(text: str) -> int:
    return (zlib.crc32(text.encode("utf-8", "surrogatepass")) & 0xFFFF) or 1


def _one_of(value: object, options: frozenset[str]) -> bool:
    """``value`` is one of these strings (a list or object sent instead is not, and is no
    error: ``in`` on a set would raise for an unhashable value)."""
    return type(value) is str and value in options


def _get(value: object, key: str) -> object:
    if type(value) is dict:  # JSON: the common case, without an ABC check
        return value.get(key)
    if value is None or type(value) in (str, int, float, bool, list):
        return None
    return value.get(key) if isinstance(value, Mapping) else None


def _schema_of(body: Mapping[str, object]) -> tuple[str, object]:
    """(form, schema) of a structured-output request or a forced function call."""
    fmt = body.get("response_format")
    if _get(fmt, "type") == "json_schema":
        spec = _get(fmt, "json_schema")
        return f"rf:{_get(spec, 'name')}", _get(spec, "schema")
    text_fmt = _get(body.get("text"), "format")
    if _get(text_fmt, "type") == "json_schema":
        return f"tf:{_get(text_fmt, 'name')}", _get(text_fmt, "schema")
    choice = body.get("tool_choice")
    tools = body.get("tools")
    if type(tools) is not list or not tools or choice is None or choice in ("auto", "none"):
        return "", None
    forced = _get(_get(choice, "function"), "name") or _get(choice, "name")
    if forced is None and choice == "required" and len(tools) == 1:
        forced = _get(_get(tools[0], "function"), "name") or _get(tools[0], "name")
    if not isinstance(forced, str):
        return "", None
    for tool in tools[:MAX_PROPERTIES]:
        fn = _get(tool, "function")
        fn = fn if fn is not None else tool  # the Responses API's flat function tools
        if _get(fn, "name") == forced:
            return f"tool:{forced}", _get(fn, "parameters")
    return "", None


def trace_schema(body: Mapping[str, object]) -> int:
    """The print of a schema asking for a trace (an array property, then another
    property), else 0."""
    if "response_format" not in body and "tool_choice" not in body and "text" not in body:
        return 0  # most requests: three lookups
    form, schema = _schema_of(body)
    props = _get(schema, "properties")
    if not form or not isinstance(props, Mapping):
        return 0
    names: list[str] = []
    steps_at = -1
    for i, (name, spec) in enumerate(props.items()):
        if i >= MAX_PROPERTIES:
            break
        names.append(str(name))
        if steps_at < 0 and _get(spec, "type") == "array":
            steps_at = i
    if steps_at < 0 or steps_at >= len(names) - 1:
        return 0  # no array, or nothing after it (a list extraction, no answer)
    return _print("\x1f".join((form, *names)))


def _text_length(content: object) -> int:
    if type(content) is str:
        return len(content)
    if not isinstance(content, Sequence) or isinstance(content, bytes):
        return 0
    return sum(len(t) for p in content if isinstance(t := _get(p, "text"), str))


def worked_history(messages: Sequence[object]) -> int:
    """The print of a history of assistant answers to earlier full-length asks before a new
    one (the last message, a user's), else 0. The print is made of the answers' lengths: one fixed
    exemplar set gives one print."""
    if len(messages) < 2 * WORKED_TURNS + 1:
        return 0  # most requests: one length
    last = messages[-1]
    if _get(last, "role") != "user" or _text_length(_get(last, "content")) < WORKED_LAST_CHARS:
        return 0
    answers = asks = mixed = 0
    for msg in messages[-MAX_HISTORY - 1 : -1]:
        if type(msg) is not dict and not isinstance(msg, Mapping):
            continue
        role = msg.get("role")
        if role == "assistant":
            size = _text_length(msg.get("content"))
            if size and not msg.get("tool_calls"):
                answers += 1
                mixed = (mixed * 0x100000001B3 + size) & 0xFFFFFFFFFFFFFFFF
        elif role == "user":
            asks += _text_length(msg.get("content")) >= WORKED_ASK_CHARS
    if answers < WORKED_TURNS or asks < WORKED_TURNS:
        return 0
    mixed = (mixed ^ mixed >> 29) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
    return (mixed >> 40 & 0xFFFF) or 1


def asks_reasoning(body: Mapping[str, object]) -> bool:
    """Reasoning effort asked for: ``reasoning_effort`` or ``reasoning.effort`` medium or
    more, or ``thinking`` enabled with a budget of :data:`THINKING_BUDGET` or more."""
    if _one_of(body.get("reasoning_effort"), EFFORT) or _one_of(
        _get(body.get("reasoning"), "effort"), EFFORT
    ):
        return True
    budget = _get(body.get("thinking"), "budget_tokens")
    return isinstance(budget, int) and not isinstance(budget, bool) and budget >= THINKING_BUDGET


SUMMARIES = frozenset({"auto", "concise", "detailed"})  # reasoning.summary values returning one


def returns_trace(body: Mapping[str, object]) -> bool:
    """The model's reasoning asked back with the answer: the Responses API's
    ``reasoning.summary`` (``auto``, ``concise``, ``detailed``; ``generate_summary`` of its
    first release), extended ``thinking`` enabled (its blocks come back), or
    ``include_reasoning`` true (compatible servers). Effort alone (:func:`asks_reasoning`)
    keeps the trace inside the model."""
    reasoning = body.get("reasoning")
    if _one_of(_get(reasoning, "summary"), SUMMARIES) or _one_of(
        _get(reasoning, "generate_summary"), SUMMARIES
    ):
        return True
    if _get(body.get("thinking"), "type") == "enabled":
        return True
    return body.get("include_reasoning") is True


def resamples(body: Mapping[str, object]) -> bool:
    """``best_of`` > 1, or a seed with a temperature of :data:`RESAMPLE_TEMPERATURE` or
    more."""
    best = body.get("best_of")
    if isinstance(best, int) and not isinstance(best, bool) and best > 1:
        return True
    seed, temp = body.get("seed"), body.get("temperature")
    return (
        isinstance(seed, int)
        and not isinstance(seed, bool)
        and isinstance(temp, int | float)
        and temp >= RESAMPLE_TEMPERATURE
    )
