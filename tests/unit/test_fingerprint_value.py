"""Value carried by request structure (gateway.fingerprints.value): trace schemas, worked
answers in the history, reasoning effort, seeded resampling; read into RequestFeatures."""

from __future__ import annotations

from typing import Any

from gateway.fingerprints.request import request_features
from gateway.fingerprints.value import asks_reasoning, resamples, trace_schema, worked_history

TASK = "Natalia sold clips to 48 of her friends in April, and then half as many in May. " * 2


def _schema(steps: str = "steps", answer: str = "final_answer") -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            steps: {"type": "array", "items": {"type": "string"}},
            answer: {"type": "string"},
        },
        "required": [steps, answer],
    }


def _rf(schema: dict[str, Any], name: str = "solution") -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def _tool(schema: dict[str, Any], name: str = "submit") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": schema}}


def test_a_trace_schema_is_read_from_its_shape_not_its_names() -> None:
    for steps, answer in (("steps", "final_answer"), ("foo", "bar"), ("x1", "x2")):
        assert trace_schema({"response_format": _rf(_schema(steps, answer))}) != 0
    # one array alone (a list extraction), or no array: no trace
    only = {"type": "object", "properties": {"items": {"type": "array"}}}
    flat = {"type": "object", "properties": {"label": {"type": "string"}}}
    assert trace_schema({"response_format": _rf(only)}) == 0
    assert trace_schema({"response_format": _rf(flat)}) == 0
    assert trace_schema({"response_format": {"type": "json_object"}}) == 0
    assert trace_schema({}) == 0


def test_a_forced_tool_call_counts_an_offered_tool_does_not() -> None:
    tools = [_tool(_schema())]
    forced = {"type": "function", "function": {"name": "submit"}}
    assert trace_schema({"tools": tools, "tool_choice": forced}) != 0
    assert trace_schema({"tools": tools, "tool_choice": "required"}) != 0
    assert trace_schema({"tools": tools}) == 0  # the model may answer in text: an agent
    assert trace_schema({"tools": tools, "tool_choice": "auto"}) == 0
    other = {"type": "function", "function": {"name": "missing"}}
    assert trace_schema({"tools": tools, "tool_choice": other}) == 0


def test_the_print_is_fixed_for_one_schema_and_changes_with_the_schema() -> None:
    one = trace_schema({"response_format": _rf(_schema())})
    assert one == trace_schema({"response_format": _rf(_schema())})
    prints = {
        trace_schema({"response_format": _rf(_schema(s, a))})
        for s in ("steps", "working", "analysis", "derivation")
        for a in ("answer", "result")
    }
    assert len(prints) == 8 and 0 not in prints


def test_worked_answers_before_a_new_task_versus_a_conversation() -> None:
    def history(answers: list[str], last: str) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for a in answers:
            out += [{"role": "user", "content": TASK}, {"role": "assistant", "content": a}]
        return [*out, {"role": "user", "content": last}]

    two = ["We are given 48. 48 / 2 = 24. So the answer is 72.", "We are given 3. So 9."]
    assert worked_history(history(two, TASK)) != 0
    assert worked_history(history(two, "ok, and then?")) == 0  # a follow-up, not a task
    assert worked_history(history(two[:1], TASK)) == 0  # one earlier answer: a conversation
    chat = history(two, TASK)
    chat[2]["content"] = "Why is that the case?"  # a follow-up earlier on: a conversation
    assert worked_history(chat) == 0
    assert worked_history(history(two, TASK)) == worked_history(history(two, TASK + "!"))
    assert worked_history(history(two, TASK)) != worked_history(history([*two[::-1], "x"], TASK))
    agent = [
        {"role": "user", "content": TASK},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
        {"role": "tool", "content": "1 passed"},
    ]
    assert worked_history(agent) == 0


def test_reasoning_effort_and_resampling() -> None:
    assert asks_reasoning({"reasoning_effort": "high"})
    assert asks_reasoning({"reasoning": {"effort": "medium"}})
    assert asks_reasoning({"thinking": {"type": "enabled", "budget_tokens": 8000}})
    assert not asks_reasoning({"reasoning_effort": "low"})
    assert not asks_reasoning({"thinking": {"type": "enabled", "budget_tokens": 100}})
    assert resamples({"best_of": 4})
    assert resamples({"seed": 7, "temperature": 0.9})
    assert not resamples({"seed": 7, "temperature": 0})  # a reproducible evaluation
    assert not resamples({"seed": 7})
    assert not resamples({"best_of": 1, "temperature": 1.0})


def test_request_features_carry_the_structure() -> None:
    messages = [{"role": "user", "content": TASK}]
    body = {"model": "m", "messages": messages, "response_format": _rf(_schema())}
    got = request_features(
        {**body, "reasoning_effort": "high", "seed": 1, "temperature": 1}, "chat"
    )
    assert got.trace_schema != 0 and got.reasoning and got.resample
    plain = request_features({"model": "m", "messages": messages}, "chat")
    assert (plain.trace_schema, plain.worked_history, plain.reasoning, plain.resample) == (
        0,
        0,
        False,
        False,
    )
    # the completions endpoint reads no schema nor history
    legacy = request_features({"prompt": TASK, "response_format": _rf(_schema())}, "completions")
    assert legacy.trace_schema == 0 and legacy.worked_history == 0
