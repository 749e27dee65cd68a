"""Prompt frames scored as entities: a hydra of small accounts is caught by its template.

Every member sends a handful of requests, far below ``min_requests``; the shared frame is
sent by many accounts, single-turn, with CoT wording, across many topics, so the frame gets
a level of its own, which each account sending it inherits (at most ``template_max_level``).
"""

from __future__ import annotations

import random

from test_detection_traffic import fingerprint

from gateway.clock import FakeClock
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.types import entity_of_template
from gateway.limiter.memory import MemoryBudgetStore
from gateway.model import Identity, Level, RequestFeatures
from gateway.redis.keys import KeyBuilder

KEYS = KeyBuilder("t")
FRAME = 0xC07C07C07


class Rig:
    def __init__(self, policy: DetectionPolicy | None = None) -> None:
        self.clock = FakeClock()
        self.policy = policy or DetectionPolicy()
        self.budgets = MemoryBudgetStore(self.clock)
        self.state = MemoryStateStore(self.clock)
        self.engine = DetectionEngine(
            self.state, self.budgets, KEYS, lambda: self.policy, self.clock
        )
        self.rng = random.Random(5)

    async def send(
        self, account: str, *, elicitation: float, turns: int = 1, human: bool = False
    ) -> None:
        gap = self.rng.expovariate(1 / 30) if human else 30 * self.rng.uniform(0.9, 1.1)
        self.clock.advance(gap)
        fp = fingerprint(
            self.rng, cell=self.rng.getrandbits(14), skeleton=FRAME, elicitation=elicitation
        )
        features = RequestFeatures(endpoint="chat", model="m", max_tokens=4096, turns=turns)
        ident = Identity(account_id=account, tier=None)
        await self.engine.observe(ident, account, 1, fp, features, self.clock.now())

    async def level(self, account: str) -> Level:
        return await self.budgets.get_level(KEYS.account_level(account, account))


async def hydra(rig: Rig, members: int, rounds: int, **kwargs: object) -> None:
    for _ in range(rounds):
        for i in range(members):
            await rig.send(f"m{i:03d}", **kwargs)  # type: ignore[arg-type]


async def test_a_hydra_of_small_accounts_is_acted_on_through_its_frame() -> None:
    rig = Rig()
    await hydra(rig, 100, 2, elicitation=0.9)
    frame = await rig.engine.view(entity_of_template(FRAME))
    assert frame["requests"] >= rig.policy.min_requests
    assert frame["level"] in ("challenge", "block")
    # a new member is challenged after its third request (its own stream must agree: a
    # few single-turn asks of its own), with no score of its own
    for _ in range(rig.policy.tuning.cohort_member_requests - 1):
        await rig.send("newcomer", elicitation=0.9)
        assert await rig.level("newcomer") == Level.NONE
    await rig.send("newcomer", elicitation=0.9)
    assert await rig.level("newcomer") == Level.CHALLENGE
    own = await rig.state.load("a:newcomer", rig.clock.now())
    assert own.requests == 3 and own.score.level == Level.NONE


async def test_an_account_whose_own_stream_disagrees_gets_no_floor() -> None:
    """Follow-ups, or asks without the wording: not a member, whatever the frame's level."""
    rig = Rig()
    await hydra(rig, 100, 2, elicitation=0.9)
    for turn in range(6):
        await rig.send("student", elicitation=0.9, turns=1 + turn % 2)
        await rig.send("plain", elicitation=0.0)
    assert await rig.level("student") == Level.NONE
    assert await rig.level("plain") == Level.NONE


async def test_an_account_that_repeats_its_asks_gets_no_floor() -> None:
    """An app whose end users ask the popular homework again (or an evaluation re-running
    its suite) re-sends prompts: a squad member asks each task once (round 15b)."""
    rig = Rig()
    await hydra(rig, 100, 2, elicitation=0.9)
    popular = [fingerprint(rig.rng, cell=c, skeleton=FRAME, elicitation=0.9) for c in (1, 2)]
    features = RequestFeatures(endpoint="chat", model="m", max_tokens=4096)
    for i in range(8):
        rig.clock.advance(30)
        ident = Identity(account_id="app", tier=None)
        await rig.engine.observe(ident, "app", 1, popular[i % 2], features, rig.clock.now())
    assert await rig.level("app") == Level.NONE
    for _ in range(rig.policy.tuning.cohort_member_requests):
        await rig.send("member", elicitation=0.9)
    assert await rig.level("member") == Level.CHALLENGE  # the same frame, never-sent asks


async def test_frame_level_is_capped_below_block() -> None:
    rig = Rig()
    await hydra(rig, 100, 3, elicitation=0.9)
    assert (await rig.engine.view(entity_of_template(FRAME)))["level"] == "block"
    for _ in range(rig.policy.tuning.cohort_member_requests):
        await rig.send("newcomer", elicitation=0.9)
    assert await rig.level("newcomer") == Level.CHALLENGE  # template_max_level


async def test_a_frame_few_accounts_share_is_not_an_entity() -> None:
    rig = Rig()
    await hydra(rig, 10, 20, elicitation=0.9)  # 200 requests, but only 10 accounts
    view = await rig.engine.view(entity_of_template(FRAME))
    assert view["requests"] == 0


async def test_a_popular_frame_used_in_conversations_without_elicitation_is_left_alone() -> None:
    """A multi-tenant app's template: many accounts, but follow-ups and no value signal."""
    rig = Rig()
    for r in range(3):
        for i in range(100):
            await rig.send(f"u{i:03d}", elicitation=0.0, turns=1 + (i + r) % 4, human=True)
    view = await rig.engine.view(entity_of_template(FRAME))
    assert view["requests"] > rig.policy.min_requests
    assert view["level"] in ("none", "throttle")  # many users: many topics
    for account in ("u000", "u001", "u002", "u003"):
        assert await rig.level(account) == Level.NONE  # nothing passed on to its users


async def workshop(rig: Rig, students: int, tasks: int) -> None:
    """A class whose students each run the same ``tasks`` lab tasks (the same prompts), one
    task after another, interleaved: each student's own asks are new to it, the class's
    union is one student's."""
    lab = [fingerprint(rig.rng, cell=c, skeleton=FRAME, elicitation=0.9) for c in range(tasks)]
    features = RequestFeatures(endpoint="chat", model="m", max_tokens=4096)
    for task in lab:
        for i in range(students):
            rig.clock.advance(30 * rig.rng.uniform(0.9, 1.1))
            ident = Identity(account_id=f"s{i:03d}", tier=None)
            await rig.engine.observe(ident, f"s{i:03d}", 1, task, features, rig.clock.now())


async def test_a_workshop_running_one_task_set_passes_no_frame_level_on() -> None:
    """Hydra members take disjoint slices (their union grows with the cohort); a class whose
    members all run the same task set covers little beyond one member's: the frame's level
    does not pass on while its union share is below cohort_union_novel."""
    tuning = {"synchrony": False}  # lockstep students meet; this is about the frame
    off = DetectionPolicy.model_validate({"tuning": {**tuning, "cohort_union_novel": 0.0}})
    rigs = {"off": Rig(off), "on": Rig(DetectionPolicy.model_validate({"tuning": tuning}))}
    for rig in rigs.values():
        await workshop(rig, 100, 20)
    assert (await rigs["off"].engine.view(entity_of_template(FRAME)))["level"] != "none"
    assert await rigs["off"].level("s050") == Level.CHALLENGE  # without the check
    assert {await rigs["on"].level(f"s{i:03d}") for i in range(100)} == {Level.NONE}
    # (a hydra's members, disjoint asks, still inherit it: the tests above, same defaults)


async def test_a_student_whose_evening_has_no_follow_up_yet_gets_no_floor() -> None:
    """The single-turn share is decayed (the last hours): a student who followed up once and
    then asks a run of single-turn exercises reads 0.90-0.96 for a while (round 22); a floor
    passed then would hold for the window. A squad member's share stays at 1."""
    rigs = {
        "old": Rig(DetectionPolicy.model_validate({"tuning": {"cohort_member_single": 0.9}})),
        "new": Rig(),
    }
    for rig in rigs.values():
        await hydra(rig, 100, 2, elicitation=0.9)
        await rig.send("student", elicitation=0.9, turns=2, human=True)  # a follow-up
        for _ in range(12):
            await rig.send("student", elicitation=0.9, human=True)
        for _ in range(rig.policy.tuning.cohort_member_requests):
            await rig.send("member", elicitation=0.9)
    assert await rigs["old"].level("student") == Level.CHALLENGE  # 9 of 10 single-turn
    assert await rigs["new"].level("student") == Level.NONE
    assert await rigs["new"].level("member") == Level.CHALLENGE
    state = await rigs["new"].state.load("a:student", rigs["new"].clock.now())
    assert 0.9 <= state.share("single") < rigs["new"].policy.tuning.cohort_member_single
