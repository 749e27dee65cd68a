"""Asks kept in stored state: what a request continuing a stored response inherits.

A Responses API request that continues a stored response (``previous_response_id``) or
appends to a stored conversation sends only its new turn (see
:mod:`gateway.fingerprints.chain`): an ask made once in the chain's first request ("for every
problem after this, show all your working step by step") reaches the model with every task
that branches off it, and no lexicon sees it in those requests. A chat request keeps such an
ask in its own history; a chain keeps it at the provider.

The store remembers, per account, the *ask* (the elicitation evidence, 0..1) of each answer
it was told about, under the answer's ref, when that ask is above zero: the request's own
ask, or the ask it inherited (a chain carries its ask down every link, as a history would).
A request whose parent ref is remembered inherits that ask; its elicitation is the greater
of its own and the inherited one. Nothing else of the parent is kept. Remembering is
idempotent (a redelivered sighting stores the same value again) and bounded: at most
``cap`` refs per account (further asks are not remembered until the key expires), the key
expiring ``ttl`` after the last ask remembered.

The store also counts, per ref, the requests that continued it. A chat continued answer
by answer continues each answer once (a regenerated or edited turn: twice or three times):
its requests are turns of the account's own conversation, follow-ups, not new asks (as
their chat-completions twins, whose history shows it). A stored answer continued again and
again is a branch point: many tasks off one root, each a new ask (``BRANCHED``). Appending
to a conversation is its course: never a branch. A parent not kept because the account's
cap is full is read as a new ask (what every request was before chains were read).

An honest chain inherits too, as its chat-completions twin's history would carry the ask.
Counting is not idempotent: a redelivered batch (a worker died before acknowledging it)
counts its continuations again, which can make the next continuation of those answers read
as a branch. Memory: ~24 bytes per remembered answer (an ask, or a continued answer) for an
account using stored state, nothing for any other (memory here, Redis in
:mod:`gateway.detection.chains_redis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_REFS = 512  # remembered answers per account (a harvester's roots; an honest account: few)
ASK_SCALE = 1000  # asks are kept as integers of 1/1000
COUNT = 1024  # a kept value is count * COUNT + ask
BRANCHED = 3  # continued this many times before: a request off it is a new ask
UNKNOWN = -1  # a parent not kept (the account's cap is full)


@dataclass(frozen=True, slots=True)
class Continued:
    """What a request inherits from the stored state it continues (see the module)."""

    ask: float = 0.0  # the parent's ask (0: none)
    before: int = 0  # requests that continued the parent before this one (UNKNOWN: not kept)

    def follow_up(self, parent: int) -> bool:
        """A turn of the account's own chat: it continues an answer not branched off."""
        return parent != 0 and 0 <= self.before < BRANCHED


@dataclass(frozen=True, slots=True)
class ChainRequest:
    """One request of ``account`` (a batch item): the ref it continues (0: none), the ref
    its answer is stored under (0: none) and its own ask (0..1)."""

    account: str
    parent: int
    stored: int
    ask: float
    ttl: float  # an account's remembered asks are forgotten this long after the last
    cap: int = MAX_REFS


def kept(ask: float) -> int:
    """An ask as the store keeps it (1/1000 steps, 0..1000)."""
    return max(0, min(ASK_SCALE, round(ask * ASK_SCALE)))


class ChainStore(Protocol):
    async def inherit_many(self, requests: Sequence[ChainRequest]) -> list[Continued]:
        """Per request, in order: what it inherits from its parent; count the parent's
        continuation and remember each request's ask (own or inherited, the greater) under
        its stored ref (one round trip; a request's parent may be an earlier request of
        the same batch)."""
        ...


class MemoryChains:
    """Remembered asks per account in a dict (tests and the evaluation kit; the TTL is not
    enforced in process: a kit run is shorter than any sensible TTL)."""

    def __init__(self) -> None:
        self._kept: dict[str, dict[int, int]] = {}

    async def inherit_many(self, requests: Sequence[ChainRequest]) -> list[Continued]:
        out: list[Continued] = []
        for r in requests:
            kept_refs = self._kept.setdefault(r.account, {})
            inherited, before = 0, 0
            if r.parent:
                value = kept_refs.get(r.parent)
                if value is not None:
                    inherited, before = value % COUNT, value // COUNT
                    kept_refs[r.parent] = (before + 1) * COUNT + inherited
                elif len(kept_refs) < r.cap:
                    kept_refs[r.parent] = COUNT
                else:
                    before = UNKNOWN
                if r.parent == r.stored:  # a conversation: appending is its course
                    before = 0
            out.append(Continued(inherited / ASK_SCALE, before))
            ask = max(kept(r.ask), inherited)
            if r.stored and ask > 0:
                value = kept_refs.get(r.stored)
                if value is not None:
                    if ask > value % COUNT:
                        kept_refs[r.stored] = value - value % COUNT + ask
                elif len(kept_refs) < r.cap:
                    kept_refs[r.stored] = ask
        return out
