"""What the linker remembers between requests: who shared which value, and per pair of
accounts which soft signals agreed on which days.

* Value index: signal value hash -> accounts seen with it (last seen as score, TTL). Capped
  at ``limit + 1`` accounts: one more than the hot limit is enough to know the value is hot;
  a hot value is flagged (TTL) and its account set dropped, so it links nobody.
* Pair state: for a pair of accounts, ``signal:day -> value hash``. A pair qualifies when at
  least ``min_signals`` different (non-hot) soft signals agree or one signal was seen on
  ``repeat_days`` distinct days. A signal that needs repeated co-occurrence (synchrony) is
  only set for a day once its per-day counter reaches ``need``.

Redelivery (a linker worker died after applying a batch, before acknowledging it) changes
nothing: adding an account again is a no-op; a co-occurrence is counted once per
``occurrence`` (the synchrony window); the sighting that made a value hot or set a pair's
signal-day, delivered again, finds it newly hot or newly set again (what followed may have
been lost), and the graph counts evidence of the same instant once.

Implementations: :class:`MemoryObservations` here, ``observations_redis`` for production.
Both take batches (``add_values``, ``record_pairs_many``): the linker worker's path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.clusters.types import pair_id


@dataclass(frozen=True, slots=True)
class ValueSeen:
    """The result of adding an account to a value's set."""

    others: tuple[str, ...]  # other accounts with the value (sorted); empty when hot
    hot: bool
    newly_hot: bool  # this call made it hot: report it once
    new_member: bool  # the account was not in the set before


@dataclass(frozen=True, slots=True)
class SignalAgreement:
    signal: str
    value_hash: str  # of the latest day
    days: int


@dataclass(frozen=True, slots=True)
class PairMatch:
    """A pair that now qualifies for a soft link, with the signals that agree."""

    other: str
    signals: tuple[SignalAgreement, ...]


@dataclass(frozen=True, slots=True)
class PairRule:
    min_signals: int
    repeat_days: int
    ttl: float


@dataclass(frozen=True, slots=True)
class ValueAdd:
    """One ``add_value`` call (a batch item of ``add_values``)."""

    signal: str
    value_hash: str
    account: str
    now: float
    limit: int
    ttl: float
    sighting: str = ""  # the sighting's stable id ("": none)


@dataclass(frozen=True, slots=True)
class PairNote:
    """One ``record_pairs`` call (a batch item of ``record_pairs_many``)."""

    account: str
    others: tuple[str, ...]
    signal: str
    value_hash: str
    day: int
    need: int
    rule: PairRule
    occurrence: str = ""  # need > 1: what one co-occurrence is (counted once)
    sighting: str = ""  # the sighting's stable id ("": none)
    now: float = 0.0  # when (a pair lives rule.ttl after its last note); 0: the store's clock


class Observations(Protocol):
    async def add_value(
        self,
        signal: str,
        value_hash: str,
        account: str,
        now: float,
        *,
        limit: int,
        ttl: float,
        sighting: str = "",
    ) -> ValueSeen: ...

    async def record_pairs(
        self,
        account: str,
        others: Sequence[str],
        signal: str,
        value_hash: str,
        day: int,
        *,
        need: int,
        rule: PairRule,
        occurrence: str = "",
        sighting: str = "",
        now: float = 0.0,
    ) -> list[PairMatch]:
        """Note that ``signal`` agreed for (account, other) on ``day``; return the pairs
        that qualify after a newly set signal-day."""
        ...

    async def add_values(self, adds: Sequence[ValueAdd]) -> list[ValueSeen]:
        """``add_value`` each, in order (one round trip)."""
        ...

    async def record_pairs_many(self, notes: Sequence[PairNote]) -> list[list[PairMatch]]:
        """``record_pairs`` each, in order (one round trip)."""
        ...


def evaluate_pair(
    fields: Mapping[str, str], is_hot: Callable[[str, str], bool], rule: PairRule
) -> tuple[SignalAgreement, ...] | None:
    """Apply the soft-link rule to one pair's ``s:signal:day -> value hash`` fields."""
    days: dict[str, list[tuple[int, str]]] = {}
    for name, value_hash in fields.items():
        kind, _, rest = name.partition(":")
        signal, _, day = rest.rpartition(":")
        if kind != "s" or is_hot(signal, value_hash):
            continue
        days.setdefault(signal, []).append((int(day), value_hash))
    agreements = tuple(
        SignalAgreement(signal, max(seen)[1], len(seen)) for signal, seen in sorted(days.items())
    )
    most_days = max((a.days for a in agreements), default=0)
    if len(agreements) >= rule.min_signals or most_days >= rule.repeat_days:
        return agreements
    return None


def _stored_form(found: tuple[SignalAgreement, ...]) -> str:
    """A match as pair.lua keeps it: ``n|signal|hash|days|...``."""
    return "|".join([str(len(found)), *(f"{a.signal}|{a.value_hash}|{a.days}" for a in found)])


def _stored(other: str, form: str) -> PairMatch:
    tokens = form.split("|")[1:]
    return PairMatch(
        other,
        tuple(
            SignalAgreement(tokens[i], tokens[i + 1], int(tokens[i + 2]))
            for i in range(0, len(tokens), 3)
        ),
    )


class MemoryObservations:
    """One process; expiry is checked lazily against the ``now`` the caller passes."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, float]] = {}  # value -> account -> last seen
        self._value_expiry: dict[str, float] = {}
        self._hot: dict[str, float] = {}  # value -> flag expiry
        self._hot_by: dict[str, str] = {}  # value -> the sighting that made it hot
        self._pairs: dict[str, dict[str, str]] = {}
        self._pair_expiry: dict[str, float] = {}
        self._now = 0.0

    async def add_value(
        self,
        signal: str,
        value_hash: str,
        account: str,
        now: float,
        *,
        limit: int,
        ttl: float,
        sighting: str = "",
    ) -> ValueSeen:
        self._now = now
        key = f"{signal}:{value_hash}"
        if self._hot.get(key, 0.0) > now:
            again = bool(sighting) and self._hot_by.get(key) == sighting
            return ValueSeen((), True, again, False)
        accounts = self._values.get(key, {})
        if self._value_expiry.get(key, 0.0) <= now:
            accounts = {}
        accounts = {a: t for a, t in accounts.items() if t > now - ttl}
        new_member = account not in accounts
        accounts[account] = now
        if len(accounts) > limit:
            self._hot[key] = now + ttl
            self._hot_by[key] = sighting or "1"
            self._values.pop(key, None)
            return ValueSeen((), True, True, new_member)
        self._values[key] = accounts
        self._value_expiry[key] = now + ttl
        others = tuple(sorted(a for a in accounts if a != account))
        return ValueSeen(others, False, False, new_member)

    async def record_pairs(
        self,
        account: str,
        others: Sequence[str],
        signal: str,
        value_hash: str,
        day: int,
        *,
        need: int,
        rule: PairRule,
        occurrence: str = "",
        sighting: str = "",
        now: float = 0.0,
    ) -> list[PairMatch]:
        if now:
            self._now = now
        matches = []
        name, by = f"s:{signal}:{day}", f"by:{signal}:{day}"
        for other in others:
            pair = pair_id(account, other)
            fields = self._pairs.get(pair, {})
            if self._pair_expiry.get(pair, 0.0) <= self._now:
                fields = {}
            self._pairs[pair] = fields
            self._pair_expiry[pair] = self._now + rule.ttl
            if need > 1 and name not in fields:
                counter, seen = f"n:{signal}:{day}", f"o:{signal}:{day}:{occurrence}"
                if not occurrence or seen not in fields:
                    if occurrence:
                        fields[seen] = "1"
                    fields[counter] = str(int(fields.get(counter, "0")) + 1)
                if int(fields.get(counter, "0")) < need:
                    continue
            if name in fields:
                if sighting and fields.get(by) == sighting and f"m:{signal}:{day}" in fields:
                    matches.append(_stored(other, fields[f"m:{signal}:{day}"]))
                continue
            fields[name] = value_hash
            found = evaluate_pair(fields, self._is_hot, rule)
            if found is not None:
                matches.append(PairMatch(other, found))
                if sighting:  # only a match is given again: no sighting kept without one
                    fields[by] = sighting
                    fields[f"m:{signal}:{day}"] = _stored_form(found)
        return matches

    async def add_values(self, adds: Sequence[ValueAdd]) -> list[ValueSeen]:
        return [
            await self.add_value(
                a.signal,
                a.value_hash,
                a.account,
                a.now,
                limit=a.limit,
                ttl=a.ttl,
                sighting=a.sighting,
            )
            for a in adds
        ]

    async def record_pairs_many(self, notes: Sequence[PairNote]) -> list[list[PairMatch]]:
        return [
            await self.record_pairs(
                n.account,
                n.others,
                n.signal,
                n.value_hash,
                n.day,
                need=n.need,
                rule=n.rule,
                occurrence=n.occurrence,
                sighting=n.sighting,
                now=n.now,
            )
            for n in notes
        ]

    def _is_hot(self, signal: str, value_hash: str) -> bool:
        return self._hot.get(f"{signal}:{value_hash}", 0.0) > self._now
