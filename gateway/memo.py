"""A bounded in-process memo: a dict that starts over when full.

Eviction rule: ``put`` of a new key into a full memo (``len == size``) first forgets every
entry, then stores it. That is what each hand-written copy did, and it was chosen over
evicting the oldest insertion by measurement (``timeit``, 4,096 entries, CPython 3.11):
a hit is one ``dict.get`` either way, but a miss into a full memo costs ~1 µs with
clear-when-full against ~12 µs with ``del d[next(iter(d))]`` (iteration walks the deleted
slots at the front of the dict until it is resized) and ~1.3 µs with an ``OrderedDict``,
for a hit rate on a skewed key stream of 96.2 % against 97.0 %. The price is a cliff: after
a clear, every key misses once.

``get`` is the underlying dict's own bound ``get``: a hit runs no Python code of ours
(measured on CPython 3.11: ~33 ns against ~28 ns for ``.get`` on a dict attribute, the
stored bound method not being specialised by the interpreter; a dict subclass measured
~39 ns). No locks: every memo is used from the one event-loop thread (or from a single
benchmark thread) and nothing awaits between a ``get`` and its ``put``.
"""

from __future__ import annotations

from collections.abc import Callable, ValuesView
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    """At most ``size`` entries; a ``put`` of a new key into a full memo clears it first.
    Values are never None (None is what ``get`` answers for a key not remembered)."""

    __slots__ = ("_data", "get", "size")

    get: Callable[[K], V | None]
    """The value remembered for ``key``, else None (the dict's bound ``get`` itself)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a BoundedMemo holds at least one entry")
        self.size = size
        self._data: dict[K, V] = {}
        self.get = self._data.get

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` (clearing a full memo first); returns ``value``."""
        data = self._data
        if len(data) >= self.size and key not in data:
            data.clear()
        data[key] = value
        return value

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        """The value for ``key``, calling ``build()`` (once per miss) and remembering it."""
        found = self._data.get(key)
        if found is None:
            found = self.put(key, build())
        return found

    def clear(self) -> None:
        self._data.clear()

    def values(self) -> ValuesView[V]:
        """The values remembered (for inspection and tests)."""
        return self._data.values()

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)
