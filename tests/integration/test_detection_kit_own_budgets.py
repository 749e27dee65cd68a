"""The kit's harness knows when an account alone would have been refused: the shipped
account budgets run in shadow beside the generous ones (``policy.own_budgets``), so that a
soft cluster's refusal of an account already over its own plan is not counted as harm.
And it keeps no response it has read (a whole-kit run is ~400,000 of them)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from aiohttp import ClientResponse

from gateway.clock import FakeClock
from loadtest.continuity_probe import mock_answer
from loadtest.detection.context import Context
from loadtest.detection.harness import Harness
from loadtest.detection.pace import ASSISTANT_STUB, chat
from loadtest.detection.policy import OWN_BUDGETS, evaluation_document
from loadtest.detection.pools import Pools
from loadtest.detection.runner import run
from loadtest.detection.traffic import Account, Behaviour, Outcome, Request

SHIPPED: dict[str, Any] = {
    "version": 1,
    "tiers": {"free": {"requests": {"rate": "1/hour", "burst": 2}, "concurrency": 4}},
}


def test_the_evaluation_policy_shadows_the_shipped_account_budgets() -> None:
    doc = evaluation_document(SHIPPED)
    assert doc["tiers"]["free"]["requests"]["rate"] == "100000/minute"  # enforced: generous
    own = doc["models"]["*"]["free"]
    assert own == {**SHIPPED["tiers"]["free"], "mode": "shadow"}
    assert OWN_BUDGETS == "model[*]:"


async def test_the_harness_counts_what_the_account_alone_would_be_refused(
    tmp_path: Path,
) -> None:
    async with _solo_harness(tmp_path) as (harness, clock):
        counts = []
        for i in range(3):
            out = await harness.send("solo", Request(chat([f"question {i}"])))
            assert out.status == 200  # the generous budgets admit all three
            counts.append(harness.own_refusals())
            clock.advance(1.0)
    assert counts == [0.0, 0.0, 1.0]  # the shipped burst of 2: the third is over the plan


async def test_the_harness_keeps_no_response_it_has_read(tmp_path: Path) -> None:
    """A whole-kit run sends ~400,000 requests through one harness: a response kept after it
    was read (aiohttp's TestClient keeps every one it made until it closes) grew the run to
    ~14 GB resident."""
    async with _solo_harness(tmp_path) as (harness, clock):
        before = _responses_alive()
        for i in range(30):
            await harness.send("solo", Request(chat([f"question {i}"])))
            clock.advance(1.0)
        gc.collect()
        assert _responses_alive() - before < 5


async def test_an_honest_follow_up_resends_the_answer_it_was_served(tmp_path: Path) -> None:
    """The runner puts the answer the gateway returned in place of the persona's stub, so the
    mock answers the follow-up as the conversation really was; the offline probe's answer is
    the kit's."""
    first = Request(chat(["why is the sky blue"]))
    follow = Request(chat(["why is the sky blue", "why?"]))
    seen: list[Outcome] = []

    def persona(acc: Account, ctx: Context) -> Behaviour:
        seen.append((yield ctx.start + 1.0, first))
        seen.append((yield ctx.start + 2.0, follow))

    async with _solo_harness(tmp_path) as (harness, clock):
        ctx = Context(Pools((), (), (), "tuning"), clock.now(), 1.0, 10)
        acc = Account("solo", "casual_chat", "benign", 1, "10.0.0.1", tier="free")
        await run(harness, clock, ctx, [(acc, persona)])
    served = seen[0].answer
    assert served == mock_answer(first) and served != ASSISTANT_STUB
    resent = Request(chat(["why is the sky blue", "why?"]))
    resent.body["messages"][1]["content"] = served
    assert seen[1].answer == mock_answer(resent) != mock_answer(follow)


@asynccontextmanager
async def _solo_harness(tmp_path: Path) -> AsyncIterator[tuple[Harness, FakeClock]]:
    """The kit's harness on the evaluation policy with one free-tier account, ``solo``."""
    policy = tmp_path / "policies" / "evaluation.yaml"
    policy.parent.mkdir()
    policy.write_text(yaml.safe_dump(evaluation_document(SHIPPED)), encoding="utf-8")
    clock = FakeClock(1_767_225_600.0)
    harness = Harness(policy, tmp_path, "memory://", clock)
    await harness.start([Account("solo", "casual_chat", "benign", 1, "10.0.0.1", tier="free")])
    try:
        yield harness, clock
    finally:
        await harness.close()


def _responses_alive() -> int:
    return sum(isinstance(o, ClientResponse) for o in gc.get_objects())
