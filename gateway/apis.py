"""The OpenAI-compatible APIs the gateway reads, told apart by path: the one owner of what
differs between them.

Chat Completions (``/chat/completions``) and the Responses API (``/responses``) carry the
same kind of prompt (``kind`` ``"chat"``: messages, or ``input`` and ``instructions``, read by
:mod:`gateway.fingerprints.request`) but differ in what the gateway reads and writes besides:

* the field that limits the answer's length: ``max_completion_tokens`` / ``max_tokens``
  (Chat Completions, legacy Completions), ``max_output_tokens`` (Responses, at least 16);
* how a stream reports its usage: a last chunk that only comes when the request asks for
  ``stream_options.include_usage`` (Chat Completions, Completions), or the ``usage`` of the
  ``response`` in the typed terminal event (``response.completed``, ``response.incomplete``,
  ``response.failed``; Responses, always sent, never asked for);
* how log probabilities are asked for: ``logprobs`` (Chat Completions), or the ``include``
  entry ``message.output_text.logprobs`` (Responses; ``top_logprobs`` in both).

Every other stage reads these properties off the request's :class:`Api` (``RequestContext.api``),
never its path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Api:
    """What the gateway needs to know of one API."""

    name: str  # "chat.completions", "responses", "completions", "embeddings", "other"
    kind: str  # the prompt's kind: "chat", "completions", "embeddings", "other"
    output_fields: tuple[str, ...]  # the fields limiting the answer's length, first present wins
    output_field: str | None  # the one degrade sets when none is present (None: no answer)
    min_output: int = 1  # the least value the upstream accepts for output_field
    usage_chunk: bool = False  # a stream's usage comes in a chunk asked for by include_usage
    typed_events: bool = False  # a stream of typed events whose terminal event holds usage
    logprobs_include: str = ""  # the ``include`` entry asking for log probabilities, if any
    stored: bool = False  # continues and creates stored state (gateway.fingerprints.chain)


_LEGACY_LIMITS = ("max_completion_tokens", "max_tokens")

CHAT_COMPLETIONS = Api("chat.completions", "chat", _LEGACY_LIMITS, "max_tokens", usage_chunk=True)
COMPLETIONS = Api("completions", "completions", _LEGACY_LIMITS, "max_tokens", usage_chunk=True)
EMBEDDINGS = Api("embeddings", "embeddings", (), None)
RESPONSES = Api(
    "responses",
    "chat",
    ("max_output_tokens",),
    "max_output_tokens",
    16,
    typed_events=True,
    logprobs_include="message.output_text.logprobs",
    stored=True,
)
# the other paths under /responses: a stored response (GET /responses/{id}; with
# ?stream=true its events again, how a background response is read), its cancel, its input
# items: no prompt of their own, but a stream of them is read for its usage like a response's
STORED_RESPONSE = Api("responses.stored", "other", _LEGACY_LIMITS, "max_tokens", typed_events=True)
OTHER = Api("other", "other", _LEGACY_LIMITS, "max_tokens")

_BY_TAIL = {
    "chat/completions": CHAT_COMPLETIONS,
    "completions": COMPLETIONS,
    "embeddings": EMBEDDINGS,
    "responses": RESPONSES,
}
_BY_KIND = {api.kind: api for api in (CHAT_COMPLETIONS, COMPLETIONS, EMBEDDINGS, OTHER)}


def api_of(path: str, prefix: str) -> Api:
    """The API of a request path under the route prefix (:data:`OTHER` when none)."""
    tail = (path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")).strip("/")
    found = _BY_TAIL.get(tail)
    if found is not None:
        return found
    return STORED_RESPONSE if tail.startswith("responses/") else OTHER


def api_of_kind(kind: str) -> Api:
    """The API a caller that only knows the prompt's kind means (``"chat"``: Chat
    Completions): for readers of bodies outside the request path (replay, tools, tests)."""
    return _BY_KIND.get(kind, OTHER)
