"""Request bodies of every shape: what is fingerprinted, what is counted, what is read."""

from __future__ import annotations

import time
from typing import Any

import pytest
from multidict import CIMultiDict

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.request import prompt_parts
from gateway.mock.text import chat_prompt, count_tokens
from loadtest.corpus import load_prompts


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


QUESTION = "Natalia sold clips to 48 of her friends in April. How many clips did she sell?"


def test_chat_fingerprints_the_last_user_turn_and_hashes_the_system_prompt(
    fp: Fingerprinter,
) -> None:
    body = {
        "model": "gpt-x",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hello there"},
            {"role": "assistant", "content": "Hi!"},
            {"role": "user", "content": QUESTION},
        ],
    }
    got = fp.fingerprint(body, "chat")
    alone = fp.fingerprint_text(QUESTION)
    assert (got.exact, got.skeleton, got.simhash, got.cell) == (
        alone.exact, alone.skeleton, alone.simhash, alone.cell,
    )  # fmt: skip
    assert got.system != 0
    other_system = dict(
        body, messages=[{"role": "system", "content": "Be verbose."}, *body["messages"][1:]]
    )
    assert fp.fingerprint(other_system, "chat").system != got.system
    no_system = dict(body, messages=body["messages"][1:])
    assert fp.fingerprint(no_system, "chat").system == 0
    assert got.est_tokens > alone.est_tokens


def test_content_parts_and_developer_role(fp: Fingerprinter) -> None:
    parts = {
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Think step by step."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": QUESTION},
                    {"type": "image_url", "image_url": {"url": "data:..."}},
                ],
            },
        ]
    }
    got = fp.fingerprint(parts, "chat")
    alone = fp.fingerprint_text(QUESTION)
    assert got.exact != alone.exact  # the picture is part of the prompt
    assert (got.skeleton, got.cell) == (alone.skeleton, alone.cell)  # a full question's topic
    assert got.system != 0
    assert "en.step_by_step" in got.elicitation_terms  # the system prompt's evidence counts
    assert got.est_tokens >= 85  # the image part


@pytest.mark.parametrize(
    ("body", "endpoint", "text"),
    [
        ({"prompt": QUESTION}, "completions", QUESTION),
        ({"prompt": ["first", QUESTION]}, "completions", QUESTION),
        ({"prompt": [1, 2, 3]}, "completions", ""),
        ({"prompt": [[1, 2], [3]]}, "completions", ""),
        ({"input": QUESTION}, "embeddings", QUESTION),
        ({"input": ["a", QUESTION]}, "embeddings", QUESTION),
        ({"messages": [{"role": "user", "content": QUESTION}]}, "other", QUESTION),
        ({"prompt": QUESTION}, "other", QUESTION),
        ({"input": QUESTION}, "other", QUESTION),
    ],
)
def test_completion_and_embedding_shapes(
    fp: Fingerprinter, body: dict[str, Any], endpoint: str, text: str
) -> None:
    assert prompt_parts(body, endpoint).last_user == text
    assert fp.fingerprint(body, endpoint).exact == fp.fingerprint_text(text).exact
    assert fp.fingerprint(body, endpoint).est_tokens > 0


def test_responses_api_input_reads_as_chat(fp: Fingerprinter) -> None:
    plain = fp.fingerprint({"input": QUESTION, "instructions": "Be brief."}, "chat")
    assert plain.exact == fp.fingerprint_text(QUESTION).exact and plain.system != 0
    items = {
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hello"}]},
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
        ]
    }
    assert fp.fingerprint(items, "chat").exact == plain.exact
    assert fp.features(items, "chat").turns == 2


def test_token_id_prompts_count_exactly() -> None:
    assert prompt_parts({"prompt": [1, 2, 3]}, "completions").est_tokens == 3
    assert prompt_parts({"input": [[1, 2], [3, 4, 5]]}, "embeddings").est_tokens == 5


@pytest.mark.parametrize(
    "body",
    [
        None, [], "text", 42, {}, {"messages": None}, {"messages": "hi"}, {"messages": [None, 3]},
        {"messages": [{"role": "user", "content": None}]},
        {"messages": [{"role": "user", "content": [None, {"type": "text", "text": 5}]}]},
        {"prompt": None}, {"prompt": {"a": 1}}, {"input": b"bytes"},
    ],
)  # fmt: skip
def test_junk_bodies_never_raise(fp: Fingerprinter, body: object) -> None:
    for endpoint in ("chat", "completions", "embeddings", "other"):
        got = fp.fingerprint(body, endpoint)
        assert got.exact == 0 and got.words == 0
        fp.features(body, endpoint, None)


def test_huge_prompts_cost_is_bounded(fp: Fingerprinter) -> None:
    text = "\n\n".join(p.text for p in load_prompts(full=False))  # ~800 kB
    body = {"messages": [{"role": "user", "content": text}] * 3}
    start = time.perf_counter()
    got = fp.fingerprint(body, "chat")
    assert time.perf_counter() - start < 0.5
    assert got.words > 50_000  # scaled from the capped part
    assert got.est_tokens > 3 * len(text) // 6


def test_estimate_tracks_the_mock_upstream_count() -> None:
    prompts = [p.text for p in load_prompts(full=False) if p.text.isascii()]
    ratios = []
    for a, b in zip(prompts[::2], prompts[1::2], strict=False):
        messages = [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": a},
            {"role": "assistant", "content": "Sure."},
            {"role": "user", "content": b, "name": "bob"},
        ]
        ratios.append(
            prompt_parts({"messages": messages}, "chat").est_tokens / chat_prompt(messages)[1]
        )
    ratios.sort()
    assert 0.93 <= ratios[len(ratios) // 2] <= 1.07  # median
    assert ratios[len(ratios) // 20] >= 0.75 and ratios[-len(ratios) // 20] <= 1.3
    assert count_tokens("") == prompt_parts({"prompt": ""}, "completions").est_tokens == 0


def test_features_of_a_harvester_like_request(fp: Fingerprinter) -> None:
    body = {
        "model": "gpt-x",
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 100,
        "max_completion_tokens": 4096,
        "n": 4,
        "logprobs": True,
        "top_logprobs": 5,
        "logit_bias": {"50256": -100},
    }
    headers = CIMultiDict({"X-Stainless-Retry-Count": "2"})
    f = fp.features(body, "chat", headers)
    assert (f.endpoint, f.model, f.stream, f.include_usage) == ("chat", "gpt-x", True, True)
    assert (f.max_tokens, f.n, f.logprobs, f.top_logprobs, f.logit_bias) == (4096, 4, True, 5, True)
    assert (f.turns, f.retry_count) == (2, 2)


def test_features_defaults_and_legacy_shapes(fp: Fingerprinter) -> None:
    f = fp.features({"model": "m", "prompt": "x", "logprobs": 3, "max_tokens": 7}, "completions")
    assert (f.logprobs, f.top_logprobs, f.max_tokens, f.turns) == (True, 3, 7, 1)
    d = fp.features({"model": 5, "n": "many", "stream": "yes", "logit_bias": {}}, "chat")
    assert (d.model, d.n, d.stream, d.logit_bias, d.retry_count) == ("", 1, False, False, 0)
    assert fp.features({}, "chat", {"x-stainless-retry-count": "junk"}).retry_count == 0
    assert fp.features({}, "chat", {"x-stainless-retry-count": "3"}).retry_count == 3
    assert fp.features({"max_tokens": True}, "chat").max_tokens is None
