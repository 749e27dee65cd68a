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

An honest chain (a chat continued answer by answer) inherits too, as its chat-completions
twin's history would carry the ask; its follow-ups are short and few. Memory: nothing for
an account whose answers carried no ask; ~24 bytes per remembered answer otherwise
(memory here, Redis in :mod:`gateway.detection.chains_redis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_REFS = 512  # remembered answers per account (a harvester's roots; an honest account: few)
ASK_SCALE = 1000  # asks are kept as integers of 1/1000


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
    async def inherit_many(self, requests: Sequence[ChainRequest]) -> list[float]:
        """Per request, in order: the ask it inherits from its parent (0: none); remember
        each request's ask (own or inherited, the greater) under its stored ref (one round
        trip; a request's parent may be an earlier request of the same batch)."""
        ...


class MemoryChains:
    """Remembered asks per account in a dict (tests and the evaluation kit; the TTL is not
    enforced in process: a kit run is shorter than any sensible TTL)."""

    def __init__(self) -> None:
        self._asks: dict[str, dict[int, int]] = {}

    async def inherit_many(self, requests: Sequence[ChainRequest]) -> list[float]:
        out: list[float] = []
        for r in requests:
            asks = self._asks.get(r.account)
            inherited = asks.get(r.parent, 0) if asks is not None and r.parent else 0
            out.append(inherited / ASK_SCALE)
            value = max(kept(r.ask), inherited)
            if r.stored and value > 0:
                asks = self._asks.setdefault(r.account, {})
                if r.stored in asks or len(asks) < r.cap:
                    asks[r.stored] = max(value, asks.get(r.stored, 0))
        return out
