"""Asks kept in stored state: what a request continuing a stored response inherits.

A Responses API request that continues a stored response (``previous_response_id``) or
appends to a stored conversation sends only its new turn (see
:mod:`gateway.fingerprints.chain`): an ask made once in the chain's first request ("for every
problem after this, show all your working step by step") reaches the model with every task
that branches off it, and no lexicon sees it in those requests. A chat request keeps such an
ask in its own history; a chain keeps it at the provider.

The store keeps, per account, under the ref of each answer that carried an ask or continued
a chain: its *ask* (the elicitation evidence, 0..1: the request's own, or the one it
inherited, the greater; a chain carries its ask down every link, as a history would) and how
many requests continued it. A request whose parent ref is kept inherits that ask; its
elicitation is the greater of its own and the inherited one. Nothing else of the parent is
kept.

A chat continued answer by answer continues each answer once (a regenerated or edited
turn: twice or three times): its requests are turns of the account's own conversation,
follow-ups, not new asks (as their chat-completions twins, whose history shows it). A stored
answer continued again and again is a branch point: many tasks off one root, each a new ask
(``BRANCHED``). Appending to a conversation is its course: never a branch. A parent not kept
because the account's cap is full is read as a new ask (what every request was before chains
were read). An honest chain inherits too, as its chat-completions twin's history would carry
the ask.

Idempotent: a request whose own ref is kept already (a redelivered sighting: a worker died
before acknowledging it) is not counted again, and keeps the same ask. Bounded: refs are kept
per detector window epoch (a day) and read in that epoch and the one before (a ref read from
the one before is written again to this one); at most ``cap`` refs per account and epoch (then
nothing new is kept until the next epoch). Memory: ~24 bytes per kept ref, for an account using
stored state; nothing for any other (memory here, Redis in
:mod:`gateway.detection.chains_redis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_REFS = 512  # refs kept per account (asks, continued answers: an honest chat, one a turn)
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
    its answer is stored under (0: none), its own ask (0..1) and its time."""

    account: str
    parent: int
    stored: int
    ask: float
    now: float
    window: float  # refs are kept per window epoch, read in this one and the one before
    cap: int = MAX_REFS  # refs kept per account and epoch

    @property
    def epoch(self) -> int:
        return int(self.now // self.window)


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


class _Kept:
    """One account's refs of one epoch, read with the epoch before's."""

    def __init__(self, here: dict[int, int], before: dict[int, int], cap: int) -> None:
        self.here, self._before, self._cap = here, before, cap

    def get(self, ref: int) -> int | None:
        found = self.here.get(ref)
        return self._before.get(ref) if found is None else found

    def put(self, ref: int, value: int) -> bool:
        if ref not in self.here and len(self.here) >= self._cap:
            return False
        self.here[ref] = value
        return True


class MemoryChains:
    """Kept refs per account and window epoch in dicts (tests and the evaluation kit; epochs
    older than the one before are not read, and are dropped as an account moves on)."""

    def __init__(self) -> None:
        self._kept: dict[str, dict[int, dict[int, int]]] = {}  # account -> epoch -> refs

    def _refs(self, r: ChainRequest) -> _Kept:
        epochs = self._kept.setdefault(r.account, {})
        for old in [e for e in epochs if e < r.epoch - 1]:
            del epochs[old]
        return _Kept(epochs.setdefault(r.epoch, {}), epochs.get(r.epoch - 1, {}), r.cap)

    async def inherit_many(self, requests: Sequence[ChainRequest]) -> list[Continued]:
        out: list[Continued] = []
        for r in requests:
            refs = self._refs(r)
            mine = refs.get(r.stored) if r.stored else None
            inherited, before = 0, 0
            if r.parent:
                value = refs.get(r.parent)
                if value is not None:
                    inherited, before = value % COUNT, value // COUNT
                    if mine is None:  # a redelivered request is not counted again
                        refs.put(r.parent, (before + 1) * COUNT + inherited)
                elif not refs.put(r.parent, COUNT):
                    before = UNKNOWN
                if r.parent == r.stored:  # a conversation: appending is its course
                    before, mine = 0, refs.get(r.stored)
            out.append(Continued(inherited / ASK_SCALE, before))
            ask = max(kept(r.ask), inherited)
            if r.stored and (ask > 0 or r.parent):
                if mine is None:
                    refs.put(r.stored, ask)
                elif ask > mine % COUNT or r.stored not in refs.here:
                    refs.put(r.stored, mine - mine % COUNT + max(ask, mine % COUNT))
        return out
