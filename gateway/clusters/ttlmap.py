"""A small bounded map whose entries expire: local dedup and hot-path caching."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlMap(Generic[K, V]):
    """At most ``capacity`` entries (least recently written dropped first); each entry
    carries the time it was written and callers decide freshness against their clock."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def get(self, key: K) -> tuple[V, float] | None:
        """The value and when it was written, or None."""
        return self._items.get(key)

    def put(self, key: K, value: V, at: float) -> None:
        self._items[key] = (value, at)
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def fresh(self, key: K, now: float, ttl: float) -> bool:
        """Whether the key was written less than ``ttl`` seconds before ``now``."""
        item = self._items.get(key)
        return item is not None and now - item[1] < ttl

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)
