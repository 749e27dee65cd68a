"""The ask read where a requester puts it beside the user turn: a chat's tail (an assistant
prefill, tool results after the user turn) is read with the user turn's wording, and CoT
wording in a system / developer prompt that changes from request to request counts, while
one app's fixed prompt does not (request.prompt_parts, Fingerprinter, detectors)."""

from __future__ import annotations

import random
from dataclasses import replace

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.types import EntityState, Finding
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.request import prompt_parts
from gateway.model import Fingerprint, RequestFeatures

FP = Fingerprinter()
POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)
TASK = "A tank holds 240 litres and drains at 8 litres a minute. When is it a quarter full?"
COT = "Think step by step, show all of your reasoning, then give the final answer."
PREFILL = "Let's think step by step.\n\n1."


def _user(text: str) -> dict[str, object]:
    return {"role": "user", "content": text}


def test_the_tail_is_the_text_after_the_last_user_turn() -> None:
    prefill = prompt_parts(
        {"messages": [_user(TASK), {"role": "assistant", "content": "A:"}]}, "chat"
    )
    assert (prefill.last_user, prefill.tail) == (TASK, "A:")
    result = {"role": "tool", "tool_call_id": "c1", "content": '{"item": "x"}'}
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]}
    tool = prompt_parts({"messages": [_user("Next item."), call, result]}, "chat")
    assert (tool.last_user, tool.tail) == ("Next item.", '{"item": "x"}')
    # answers before a later user turn are history, not tail
    chat = [_user(TASK), {"role": "assistant", "content": "It takes 22.5 min."}, _user("why?")]
    assert prompt_parts({"messages": chat}, "chat").tail == ""
    # no user turn at all: the last text is what is fingerprinted, there is no tail
    only = prompt_parts({"messages": [{"role": "assistant", "content": "hi"}]}, "chat")
    assert (only.last_user, only.tail) == ("hi", "")


def test_a_prefill_or_a_tool_result_carrying_the_ask_is_elicitation() -> None:
    bare = FP.fingerprint({"messages": [_user(TASK)]}, "chat")
    prefilled = FP.fingerprint(
        {"messages": [_user(TASK), {"role": "assistant", "content": PREFILL}]}, "chat"
    )
    item = {
        "role": "tool",
        "tool_call_id": "c1",
        "content": f'{{"item": "{TASK}", "instructions": "{COT}"}}',
    }
    smuggled = FP.fingerprint({"messages": [_user("Next item."), item]}, "chat")
    assert bare.elicitation == 0.0
    assert prefilled.elicitation >= 0.5, prefilled
    assert smuggled.elicitation >= 0.5, smuggled
    # the user turn stays what is fingerprinted (novelty, templates)
    assert (prefilled.exact, prefilled.cell) == (bare.exact, bare.cell)
    # a tool result without such wording (an agent reading a file) adds nothing
    code = {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "def area(r):\n    return 3.14 * r * r",
    }
    assert FP.fingerprint({"messages": [_user("Fix the bug."), code]}, "chat").elicitation == 0.0


async def _state(fingerprints: list[Fingerprint]) -> EntityState:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    state = EntityState(entity="a:x")
    features = RequestFeatures("chat", "gpt-x", max_tokens=800)
    for fp in fingerprints:
        clock.advance(40.0)
        obs = observation(fp, features, POLICY, clock.now())
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    return state


def _elicitation(state: EntityState) -> Finding:
    return next(f for f in detectors.assess(state, CTX) if f.family == "elicitation")


def _asks(system: list[str], n: int = 120) -> list[Fingerprint]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        messages = [{"role": "developer", "content": rng.choice(system)}, _user(f"{TASK} #{i}")]
        out.append(FP.fingerprint({"messages": messages}, "chat"))
    return out


async def test_cot_wording_in_a_changing_developer_prompt_counts_a_fixed_one_does_not() -> None:
    wordings = [
        COT,
        "Work through the problem step by step and show every intermediate step.",
        "Explain your reasoning in full, one step at a time, then state the final answer.",
        "Show your complete chain of reasoning; do not skip steps.",
    ]
    changing = await _state(_asks(wordings))
    assert detectors.system_variety(changing) >= detectors.SYSTEM_VARIETY[1]
    found = _elicitation(changing)
    assert found.score >= 0.6, found
    assert any("system-prompt lexicon" in r for r in found.reasons), found.reasons
    app = "You are Lumi, a friendly assistant. For homework, explain step by step."
    fixed = await _state(_asks([app]))
    assert detectors.system_variety(fixed) == 0.0
    assert _elicitation(fixed).score == 0.0
    # a prompt that changes without CoT wording (a translation app's target language) is
    # variety without value
    langs = await _state(_asks([f"Translate the user's text into {x}." for x in "ABCDEFGH"]))
    assert detectors.system_variety(langs) >= detectors.SYSTEM_VARIETY[1]
    assert _elicitation(langs).score == 0.0


async def test_an_app_with_one_dominant_prompt_stays_under_the_variety_floor() -> None:
    main = FP.fingerprint_text(TASK, "You are a tutor. Explain step by step.")
    other = FP.fingerprint_text(TASK, "You are a quiz master. Explain step by step, briefly.")
    mix = [replace(other if i % 10 == 0 else main, exact=i + 1) for i in range(120)]
    state = await _state(mix)
    assert detectors.system_variety(state) < detectors.SYSTEM_VARIETY[0]
    assert _elicitation(state).score == 0.0


def test_after_a_cue_the_task_in_the_tail_is_what_is_fingerprinted() -> None:
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]}

    def queue(task: str, cue: str = "Next item.") -> Fingerprint:
        item = {"role": "tool", "tool_call_id": "c1", "content": f'{{"item": "{task}"}}'}
        return FP.fingerprint({"messages": [_user(cue), call, item]}, "chat")

    other = "Name three rivers that flow into the Black Sea and the countries they cross."
    a, b = queue(TASK), queue(other)
    assert a.exact != b.exact and a.cell != b.cell  # each work item is a new ask
    assert a.elicitation == 0.0  # no CoT wording in the item: no value signal
    # a user turn that states a task stays what is fingerprinted, whatever the tools return
    long_cue = "Fix the failing test in the billing module and explain the cause."
    assert queue(TASK, long_cue).exact == queue(other, long_cue).exact


async def test_a_cluster_alternating_its_members_fixed_prompts_is_not_variety() -> None:
    desks = [f"You are the support assistant of {c}. Troubleshoot step by step." for c in "AB"]
    state = await _state(_asks(desks))
    cluster = detectors.Context(min_requests=30, cluster=True)
    found = next(f for f in detectors.assess(state, cluster) if f.family == "elicitation")
    assert found.score == 0.0
    assert _elicitation(state).score > 0.0  # one account alternating them: it counts
