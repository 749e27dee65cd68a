from __future__ import annotations

from gateway.limiter.slots import group_by_slot
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.keys import KeyBuilder, slot_of

KEYS = KeyBuilder("dg")


def bucket(key: str) -> BudgetSpec:
    return BudgetSpec(key, "account", "requests", "bucket", key, limit=1, window=1, rate=1)


def test_account_cluster_level_and_clearance_share_a_slot() -> None:
    slots = {
        slot_of(KEYS.account_budget("c9", "a1", "requests")),
        slot_of(KEYS.cluster_budget("c9", "tokens")),
        slot_of(KEYS.account_level("c9", "a1")),
        slot_of(KEYS.cluster_level("c9")),
        slot_of(KEYS.account_clearance("c9", "a1")),
    }
    assert len(slots) == 1


def test_groups_put_the_level_group_first() -> None:
    request = AcquireRequest(
        "r",
        (
            Charge(bucket(KEYS.global_budget("gpt", "requests"))),
            Charge(bucket(KEYS.account_budget("c9", "a1", "requests"))),
            Charge(bucket(KEYS.global_budget("gpt", "tokens"))),
        ),
        level_keys=(KEYS.account_level("c9", "a1"),),
    )
    groups = group_by_slot(request)
    assert len(groups) == 2
    assert groups[0].charges == [1] and groups[0].level_keys == list(request.level_keys)
    assert groups[1].charges == [0, 2]


def test_one_slot_is_one_group() -> None:
    request = AcquireRequest(
        "r",
        (Charge(bucket(KEYS.account_budget("c9", "a1", "x"))),
         Charge(bucket(KEYS.cluster_budget("c9", "y")))),
    )  # fmt: skip
    assert len(group_by_slot(request)) == 1
