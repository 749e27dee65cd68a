"""Stored state a request continues, and the stored state its answer becomes (pure).

The Responses API keeps state at the provider: ``previous_response_id`` continues a stored
response (the model sees that response's whole conversation, instructions included), and
``conversation`` (an id, or ``{"id": ...}``) appends to a stored conversation. A request
that continues stored state sends only its new turn: what the earlier turns asked ("for
every problem after this, show all your working") is not in the request. The gateway saw
those turns when they were sent through it: detection remembers, per account, the ask of
each answer it served under the answer's *ref* and reads it back for the requests that
continue it (:mod:`gateway.detection.chains`).

A ref is a 48-bit hash of the id (never 0): ids are the provider's, opaque, unique per
account; 48 bits keep a remembered ask small, and two of one account's ids share a ref with
odds of about n^2 / 2^49 (1 in 10^7 for a thousand remembered answers).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.fingerprints.hashing import stable_hash64

_SALT = b"dg-stored-ref"
MAX_ID_CHARS = 256  # a longer "id" is no provider id: no ref


def ref_of(ident: object) -> int:
    """The ref of a stored response's or conversation's id (0: not an id)."""
    if type(ident) is not str or not ident or len(ident) > MAX_ID_CHARS:
        return 0
    return (stable_hash64(ident, _SALT) >> 16) or 1


def conversation_ref(body: Mapping[str, object]) -> int:
    """The ref of the conversation a Responses request appends to (0: none)."""
    conversation = body.get("conversation")
    if isinstance(conversation, Mapping):
        conversation = conversation.get("id")
    return ref_of(conversation)


def parent_ref(body: Mapping[str, object]) -> int:
    """The ref of the stored state a Responses request continues: the response it names by
    ``previous_response_id``, else the conversation it appends to (0: none; the API
    refuses both at once, so either reading is the upstream's)."""
    return ref_of(body.get("previous_response_id")) or conversation_ref(body)


def answer_ref(body: Mapping[str, object], answer_id: str) -> int:
    """The ref the answer to a Responses request is remembered under: its conversation's
    when it appends to one (the next request names the conversation, not the answer), else
    the answer's own id (what a ``previous_response_id`` will name). 0 when the request
    asked the provider not to store the answer and names no conversation."""
    conversation = conversation_ref(body)
    if conversation:
        return conversation
    if body.get("store") is False:
        return 0
    return ref_of(answer_id)
