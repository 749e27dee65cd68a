"""BoundedMemo: the size bound, the eviction rule (a new key into a full memo clears it)
and get_or_build's one build per miss."""

from __future__ import annotations

import pytest

from gateway.memo import BoundedMemo


def test_the_size_bound_holds_and_a_full_memo_starts_over() -> None:
    memo: BoundedMemo[int, str] = BoundedMemo(3)
    for i in range(3):
        assert memo.put(i, str(i)) == str(i)
    assert len(memo) == 3 and [memo.get(i) for i in range(3)] == ["0", "1", "2"]
    memo.put(3, "3")  # full: everything is forgotten, then 3 is remembered
    assert len(memo) == 1 and memo.get(3) == "3"
    assert memo.get(0) is None and 0 not in memo and 3 in memo
    for i in range(100):
        memo.put(i, "x")
        assert 1 <= len(memo) <= 3


def test_putting_a_remembered_key_into_a_full_memo_replaces_it_only() -> None:
    memo: BoundedMemo[str, int] = BoundedMemo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 10)
    assert len(memo) == 2 and memo.get("a") == 10 and memo.get("b") == 2
    assert sorted(memo.values()) == [2, 10]


def test_get_or_build_builds_once_per_miss() -> None:
    built: list[str] = []

    def build(key: str) -> int:
        built.append(key)
        return len(built)

    memo: BoundedMemo[str, int] = BoundedMemo(2)
    assert memo.get_or_build("a", lambda: build("a")) == 1
    assert memo.get_or_build("a", lambda: build("a")) == 1
    assert memo.get_or_build("b", lambda: build("b")) == 2
    assert memo.get_or_build("c", lambda: build("c")) == 3  # full: starts over
    assert memo.get_or_build("a", lambda: build("a")) == 4  # forgotten: built again
    assert built == ["a", "b", "c", "a"]


def test_clear_forgets_everything_and_the_size_must_be_positive() -> None:
    memo: BoundedMemo[int, int] = BoundedMemo(4)
    memo.put(1, 1)
    memo.clear()
    assert len(memo) == 0 and memo.get(1) is None
    with pytest.raises(ValueError):
        BoundedMemo(0)
