"""The types of the request fields the gateway itself reads.

Budgets reserve ``max_tokens``, usage settlement depends on ``stream``, plans are keyed by
``model`` and fingerprints read ``messages``. A value the gateway would read one way and a
lenient upstream another (``"stream": "yes"``, ``"max_tokens": "100000"``) would let a client
be charged for less than it gets, so it is refused the way OpenAI refuses it: 400
``invalid_request_error`` with ``code: invalid_type`` and the field in ``param`` (a negative
count too, its message naming the value as OpenAI's does). Fields the gateway does not read
pass to the upstream untouched; ``null`` is allowed wherever the field is optional.
"""

from __future__ import annotations

from gateway.errors import InvalidRequest

_COUNTS = ("max_tokens", "max_completion_tokens", "max_output_tokens", "n")
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "a value")


def _invalid(param: str, expected: str, value: object) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead.",
        code="invalid_type",
        param=param,
    )


def _check_messages(messages: object) -> None:
    if not isinstance(messages, list):
        raise _invalid("messages", "an array of message objects", messages)
    for message in messages:  # the common case: no string built, no index kept
        if (
            type(message) is not dict
            or type(message.get("role")) is not str
            or type(message.get("content")) not in _CONTENT
        ):
            _refuse_messages(messages)


_CONTENT = (str, list, type(None))  # JSON: exact types (orjson makes no subclasses)


def _refuse_messages(messages: list[object]) -> None:
    """The first malformed message's error (see :func:`_check_messages`)."""
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _invalid(where, "a message object", message)
        if not isinstance(message.get("role"), str):
            raise _invalid(f"{where}.role", "a string", message.get("role"))
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise _invalid(f"{where}.content", "a string or an array of parts", content)


def check_fields(payload: dict[str, object], endpoint: str) -> None:
    """Raise :class:`InvalidRequest` (400 ``invalid_type``) on a wrong type for a field the
    gateway reads; ``endpoint`` is the inspect stage's name (``chat``, ``completions``...)."""
    if "model" in payload and not isinstance(payload["model"], str):
        raise _invalid("model", "a string", payload["model"])
    stream = payload.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _invalid("stream", "a boolean", stream)
    options = payload.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _invalid("stream_options", "an object", options)
    for name in _COUNTS:
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, "a non-negative integer", value)
        if value < 0:
            raise InvalidRequest(
                f"Invalid '{name}': integer below minimum value. Expected a value >= 0, "
                f"but got {value} instead.",
                code="invalid_type",
                param=name,
            )
    if endpoint == "chat" and "messages" in payload:
        _check_messages(payload["messages"])
