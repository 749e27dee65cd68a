"""Refs of stored state (:mod:`gateway.fingerprints.chain`) and the ``parent`` feature."""

from __future__ import annotations

from gateway.apis import CHAT_COMPLETIONS, RESPONSES
from gateway.fingerprints.chain import answer_ref, conversation_ref, parent_ref, ref_of
from gateway.fingerprints.request import request_features


def test_refs_are_stable_48_bit_and_never_zero() -> None:
    one = ref_of("resp_68af3c2e1b7c8190a1b2c3d4e5f60718")
    assert one == ref_of("resp_68af3c2e1b7c8190a1b2c3d4e5f60718") and 0 < one < 1 << 48
    assert one != ref_of("resp_68af3c2e1b7c8190a1b2c3d4e5f60719")
    for junk in ("", None, 17, ["resp_1"], {"id": "x"}, "r" * 257):
        assert ref_of(junk) == 0


def test_a_request_continues_a_response_or_a_conversation() -> None:
    assert parent_ref({"previous_response_id": "resp_1"}) == ref_of("resp_1")
    assert (
        parent_ref({"conversation": "conv_9"})
        == ref_of("conv_9")
        == conversation_ref({"conversation": {"id": "conv_9"}})
    )
    assert parent_ref({"input": "hi"}) == 0
    assert parent_ref({"previous_response_id": 5, "conversation": ["x"]}) == 0


def test_an_answer_is_remembered_under_its_id_or_its_conversation() -> None:
    assert answer_ref({"input": "hi"}, "resp_2") == ref_of("resp_2")
    assert answer_ref({"conversation": "conv_9"}, "resp_2") == ref_of("conv_9")
    assert answer_ref({"store": False}, "resp_2") == 0  # nothing stored to continue
    assert answer_ref({"input": "hi"}, "") == 0


def test_only_the_responses_api_reads_a_parent() -> None:
    body = {"model": "m", "input": "next task", "previous_response_id": "resp_1"}
    assert request_features(body, "chat", api=RESPONSES).parent == ref_of("resp_1")
    chat = {"model": "m", "messages": [{"role": "user", "content": "x"}], **body}
    assert request_features(chat, "chat", api=CHAT_COMPLETIONS).parent == 0
    # features of different parents are different instances, never one shared
    other = {**body, "previous_response_id": "resp_2"}
    assert request_features(other, "chat", api=RESPONSES).parent == ref_of("resp_2")
