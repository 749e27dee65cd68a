"""The key layout: every name built in gateway.redis.keys, unchanged (stored state keeps
its keys across releases), hash tags put what one script touches in one slot."""

from __future__ import annotations

from gateway.redis.keys import KeyBuilder, slot_of


def test_key_names_are_those_already_stored() -> None:
    keys = KeyBuilder("dg")
    assert keys.account_budget("c1", "a1", "rpm") == "dg:{c:c1}:a:a1:rpm"
    assert keys.cluster_budget("c1", "tpd") == "dg:{c:c1}:c:tpd"
    assert keys.global_budget("m", "tpm") == "dg:{g:m}:tpm"
    assert keys.account_level("c1", "a1") == "dg:{c:c1}:lvl:a:a1"
    assert keys.cluster_level("c1") == "dg:{c:c1}:lvl:c"
    assert keys.account_clearance("c1", "a1") == "dg:{c:c1}:clr:a:a1"
    assert keys.cluster_graph() == "dg:{x:clusters}:g"
    assert keys.cluster_pairs(7) == "dg:{xp:7}"
    assert keys.cluster_values(5) == "dg:{xv:5}"
    assert keys.detection("acct:a1", "cell", "7") == "dg:{det:acct:a1}:cell:7"
    assert keys.detection_template("00ff") == "dg:{dettpl:00ff}"
    assert keys.seen("a1") == "dg:{seen:a1}"
    assert keys.pow_used("j1") == "dg:{pow:j1}"


def test_braces_and_spaces_cannot_break_a_hash_tag() -> None:
    keys = KeyBuilder("d g")
    assert keys.account_budget("c}x", "a{ b", "r") == "d_g:{c:c_x}:a:a__b:r"


def test_what_one_budget_script_touches_shares_one_slot() -> None:
    keys = KeyBuilder("dg")
    slots = {
        slot_of(key)
        for key in (
            keys.account_budget("hydra", "a1", "rpm"),
            keys.account_budget("hydra", "a2", "rpm"),
            keys.cluster_budget("hydra", "tpd"),
            keys.account_level("hydra", "a1"),
            keys.cluster_level("hydra"),
            keys.account_clearance("hydra", "a2"),
        )
    }
    assert len(slots) == 1
    assert slot_of(keys.detection("acct:a1", "s")) == slot_of(keys.detection("acct:a1", "pin"))
