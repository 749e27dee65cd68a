"""The detection engine on the memory stores: levels written, shadow, clusters, pins, worker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from test_detection_traffic import HARVESTER, HONEST, TUTOR, Persona, events

from gateway.clock import FakeClock
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.types import Assessment
from gateway.limiter.memory import MemoryBudgetStore
from gateway.model import Identity, Level
from gateway.redis.keys import KeyBuilder

KEYS = KeyBuilder("t")


class Rig:
    def __init__(self, policy: DetectionPolicy | None = None) -> None:
        self.clock = FakeClock()
        self.policy = policy or DetectionPolicy()
        self.budgets = MemoryBudgetStore(self.clock)
        self.state = MemoryStateStore(self.clock)
        self.engine = DetectionEngine(
            self.state, self.budgets, KEYS, lambda: self.policy, self.clock
        )
        self.start = self.clock.now()

    async def drive(
        self,
        persona: Persona,
        count: int,
        account: str = "acct",
        cluster: str | None = None,
        size: int = 1,
        seed: int = 1,
    ) -> list[tuple[Assessment, Assessment]]:
        out = []
        ident = Identity(account_id=account, tier=None)
        for t, fp, features in events(persona, count, seed):
            self.clock.set(max(self.clock.now(), self.start + t))
            now = self.clock.now()
            out.append(
                await self.engine.observe(ident, cluster or account, size, fp, features, now)
            )
        return out

    async def level(self, account: str, cluster: str | None = None) -> Level:
        return await self.budgets.get_level(KEYS.account_level(cluster or account, account))


async def test_harvester_escalates_and_level_key_is_written() -> None:
    rig = Rig()
    results = await rig.drive(HARVESTER, 150)
    levels = [a.level for a, _ in results]
    assert levels[0] == Level.NONE and levels[-1] == Level.BLOCK
    assert levels == sorted(levels)  # graduated: it passes through the levels in order
    assert Level.THROTTLE in levels and Level.DEGRADE in levels
    assert await rig.level("acct") == Level.BLOCK
    audit = await rig.state.audit("a:acct")
    assert [r["to"] for r in reversed(audit)][:2] == ["throttle", "degrade"]
    assert audit[0]["evidence"]["requests"] >= 30 and audit[0]["reasons"]


@pytest.mark.parametrize(("persona", "most"), [(HONEST, Level.NONE), (TUTOR, Level.DEGRADE)])
async def test_ordinary_users_and_tutoring_apps(persona: Persona, most: Level) -> None:
    rig = Rig()
    results = await rig.drive(persona, 600)
    assert max(a.level for a, _ in results) <= most
    assert await rig.level("acct") <= most


async def test_shadow_mode_writes_nothing_and_reports_would_level() -> None:
    rig = Rig(DetectionPolicy.model_validate({"mode": "shadow"}))
    results = await rig.drive(HARVESTER, 150)
    last, _ = results[-1]
    assert last.mode == "shadow" and last.level == Level.BLOCK
    assert "would_level=block" in last.reasons[0]
    assert await rig.level("acct") == Level.NONE


async def test_disabled_detection_observes_nothing() -> None:
    rig = Rig(DetectionPolicy(enabled=False))
    results = await rig.drive(HARVESTER, 100)
    assert {a.level for a, _ in results} == {Level.NONE}
    assert len(rig.state) == 0


async def test_cluster_of_synchronised_members() -> None:
    rig = Rig()
    ident = [Identity(account_id=f"m{i}", tier=None) for i in range(5)]
    streams = [list(events(HARVESTER, 40, seed=i)) for i in range(5)]
    last: tuple[Assessment, Assessment] | None = None
    for step in range(40):
        for i in range(5):  # members fire together
            t, fp, features = streams[0][step][0], streams[i][step][1], streams[i][step][2]
            rig.clock.set(max(rig.clock.now(), rig.start + t + i * 0.1))
            last = await rig.engine.observe(ident[i], "hydra", 5, fp, features, rig.clock.now())
    assert last is not None
    account, cluster = last
    # each member alone has too little evidence; the cluster has plenty
    assert account.level <= Level.THROTTLE
    assert cluster.level == Level.BLOCK and cluster.entity == "c:hydra"
    timing = next(f for f in cluster.families if f.family == "timing")
    assert any("synchrony" in r for r in timing.reasons)
    assert await rig.budgets.get_level(KEYS.cluster_level("hydra")) == Level.BLOCK


@pytest.mark.parametrize(
    ("hard", "soft_max", "most"),
    [
        (True, "throttle", Level.BLOCK),
        (False, "throttle", Level.THROTTLE),
        (True, "none", Level.BLOCK),
        (False, "none", Level.NONE),  # policies/default.yaml: soft clusters are only shown
    ],
)
async def test_soft_only_cluster_is_capped_as_a_cluster(
    hard: bool, soft_max: str, most: Level
) -> None:
    rig = Rig(DetectionPolicy.model_validate({"soft_cluster_max": soft_max}))
    asked: list[str] = []

    async def hard_links(cluster_id: str) -> bool:
        asked.append(cluster_id)
        return hard

    rig.engine.hard_links = hard_links
    ident = [Identity(account_id=f"m{i}", tier=None) for i in range(5)]
    streams = [list(events(HARVESTER, 40, seed=i)) for i in range(5)]
    levels: list[Level] = []
    for step in range(40):
        for i in range(5):
            t, fp, features = streams[0][step][0], streams[i][step][1], streams[i][step][2]
            rig.clock.set(max(rig.clock.now(), rig.start + t + i * 0.1))
            _, cluster = await rig.engine.observe(
                ident[i], "jobs", 5, fp, features, rig.clock.now()
            )
            levels.append(cluster.level)
    assert max(levels) == most
    assert await rig.budgets.get_level(KEYS.cluster_level("jobs")) == most
    assert set(asked) == {"jobs"}
    if not hard:
        assert any("soft evidence only" in r for r in cluster.reasons)


async def test_solitary_account_has_no_cluster_state() -> None:
    rig = Rig()
    results = await rig.drive(HARVESTER, 50)
    assert all(c.level == Level.NONE and c.entity == "c:acct" for _, c in results)
    assert (await rig.state.load("c:acct", rig.clock.now())).requests == 0


async def test_levels_expire_and_decay_after_the_campaign_stops() -> None:
    rig = Rig()
    await rig.drive(HARVESTER, 150)
    assert await rig.level("acct") == Level.BLOCK
    rig.clock.advance(rig.policy.ttl.block + 1)
    assert await rig.level("acct") == Level.NONE  # the key's TTL ran out
    view = await rig.engine.view("a:acct")
    assert view["level"] == "none" and view["score"] < 0.1


async def test_pin_clear_and_view() -> None:
    rig = Rig()
    pin = await rig.engine.pin("a:acct", Level.CHALLENGE, 86400, "alice", "ticket 42")
    assert pin.until == rig.clock.now() + 86400
    assert await rig.level("acct") == Level.CHALLENGE
    results = await rig.drive(HONEST, 50)
    assert all(a.level == Level.CHALLENGE and a.pinned for a, _ in results)
    assert await rig.level("acct") == Level.CHALLENGE  # the scorer did not overwrite it
    view = await rig.engine.view("a:acct")
    assert view["pinned"]["actor"] == "alice" and view["level"] == "challenge"
    assert any(r.get("action", "").startswith("pin challenge") for r in view["audit"])
    await rig.engine.clear("a:acct", "bob", "resolved")
    assert await rig.level("acct") == Level.NONE
    view = await rig.engine.view("a:acct")
    assert view["pinned"] is None and view["audit"][0]["actor"] == "bob"
    with pytest.raises(ValueError):
        await rig.engine.pin("acct", Level.BLOCK, 60, "alice", "no kind prefix")


async def test_pinned_account_in_a_cluster_uses_the_cluster_key() -> None:
    rig = Rig()
    await rig.engine.pin("a:acct", Level.BLOCK, 60, "alice", "x", cluster_id="org")
    assert await rig.level("acct", "org") == Level.BLOCK
    await rig.engine.pin("c:org", Level.DEGRADE, 60, "alice", "x")
    assert await rig.budgets.get_level(KEYS.cluster_level("org")) == Level.DEGRADE


async def test_verification_required_until_an_operator_clears_it() -> None:
    policy = DetectionPolicy.model_validate({"verification": {"enabled": True, "url": "https://v"}})
    rig = Rig(policy)
    await rig.drive(HARVESTER, 150)
    assert await rig.engine.requires_verification("acct")
    rig.clock.advance(rig.policy.ttl.block * 3)  # a plain block would have expired by now
    assert await rig.level("acct") == Level.BLOCK
    assert await rig.engine.requires_verification("acct")
    await rig.engine.clear("a:acct", "ops", "identity verified")
    assert not await rig.engine.requires_verification("acct")
    assert await rig.level("acct") == Level.NONE


async def test_sdk_retries_are_not_new_behaviour() -> None:
    rig = Rig()
    ident = Identity(account_id="acct", tier=None)
    _t, fp, features = next(events(HARVESTER, 1, 1))
    for _ in range(5):
        await rig.engine.observe(
            ident, "acct", 1, fp, replace(features, retry_count=1), rig.clock.now()
        )
    assert (await rig.state.load("a:acct", rig.clock.now())).requests == 0
    await rig.engine.observe(ident, "acct", 1, fp, features, rig.clock.now())
    assert (await rig.state.load("a:acct", rig.clock.now())).requests == 1


async def test_template_fan_out_across_accounts() -> None:
    rig = Rig()
    shared = list(events(replace(HONEST, templates=1), 40, seed=9))
    for i in range(8):
        ident = Identity(account_id=f"u{i}", tier=None)
        for _, fp, features in shared[i * 5 : i * 5 + 5]:
            rig.clock.advance(1)
            await rig.engine.observe(ident, f"u{i}", 1, fp, features, rig.clock.now())
    last = await rig.state.load("a:u7", rig.clock.now())
    first = await rig.state.load("a:u0", rig.clock.now())
    assert last.share("fan") == 1.0  # >= 5 accounts already sent this frame
    assert first.share("fan") == 0.0


async def test_tier_exemption_applies_to_the_account() -> None:
    policy = DetectionPolicy.model_validate(
        {"tiers": {"enterprise": {"challenge_exempt": True, "max_level": "degrade"}}}
    )
    rig = Rig(policy)
    ident = Identity(account_id="big", tier="enterprise")
    for t, fp, features in events(HARVESTER, 150, 1):
        rig.clock.set(rig.start + t)
        a, _ = await rig.engine.observe(ident, "big", 1, fp, features, rig.clock.now())
    assert a.level == Level.DEGRADE
    assert await rig.level("big") == Level.DEGRADE


LIGHT = Persona(0, 0, 0.6, 1.0, 1500, 0.0, False, 60.0)  # paraphrased CoT asks, no template


async def _soft_cluster(times: list[tuple[float, int]], policy: DetectionPolicy) -> list[Level]:
    """Members of a soft-only cluster ``light`` send at ``times`` (offset, member)."""
    rig = Rig(policy)

    async def soft_only(cluster_id: str) -> bool:
        return False

    rig.engine.hard_links = soft_only
    stream = list(events(LIGHT, len(times), seed=7))
    levels: list[Level] = []
    for (t, member), (_, fp, features) in zip(sorted(times), stream, strict=True):
        rig.clock.set(max(rig.clock.now(), rig.start + t))
        ident = Identity(account_id=f"m{member}", tier=None)
        _, c = await rig.engine.observe(ident, "light", 8, fp, features, rig.clock.now())
        levels.append(c.level)
    return levels


def _squad(waves: int) -> list[tuple[float, int]]:
    """8 members firing within 2 s of each other, one wave every ~2 hours."""
    return [(w * 7200.0 + (w * 37 + m * 11) % 20 / 10.0, m) for w in range(waves) for m in range(8)]


def _crowd(count: int, gap: float) -> list[tuple[float, int]]:
    """8 members sending independently (exponential gaps), ``gap`` seconds apart in all."""
    import random

    rng = random.Random(3)
    t, out = 0.0, []
    for _ in range(count):
        t += rng.expovariate(1.0 / gap)
        out.append((t, rng.randrange(8)))
    return out


ON = {"soft_cluster_max": "none", "coordination": {"max_level": "throttle"}}


async def test_coordinated_soft_cluster_is_throttled_on_coordination() -> None:
    levels = await _soft_cluster(_squad(30), DetectionPolicy.model_validate(ON))
    assert max(levels) == Level.THROTTLE  # and never more
    off = {"soft_cluster_max": "none"}  # the code default: the path is off
    assert max(await _soft_cluster(_squad(30), DetectionPolicy.model_validate(off))) == Level.NONE


async def test_busy_crowd_is_synchronous_only_by_chance() -> None:
    # about one request every 1.5 s from 8 independent members: most requests are within 2 s
    # of another member's, as chance says; the same content and volume as the squad
    levels = await _soft_cluster(_crowd(240, 1.5), DetectionPolicy.model_validate(ON))
    assert max(levels) == Level.NONE


def _shipped_detection() -> DetectionPolicy:
    shipped = Path(__file__).parents[2] / "policies" / "default.yaml"
    return DetectionPolicy.model_validate(yaml.safe_load(shipped.read_text())["detection"])


@pytest.mark.parametrize(("tier", "enforced"), [("evaluation", False), ("pro", True)])
async def test_the_shipped_evaluation_tier_is_an_audited_exemption(
    tier: str, enforced: bool
) -> None:
    """An evaluation vendor granted the shipped ``evaluation`` tier (its key's tier, see
    README "Exempting an evaluation customer") is scored and audited, never acted on; the
    same traffic on ``pro`` is acted on (round 15b)."""
    rig = Rig(_shipped_detection())
    ident = Identity(account_id="vendor", tier=tier)
    last: Assessment | None = None
    for t, fp, features in events(HARVESTER, 150, 1):
        rig.clock.set(max(rig.clock.now(), rig.start + t))
        last, _ = await rig.engine.observe(ident, "vendor", 1, fp, features, rig.clock.now())
    assert last is not None and last.level > Level.NONE  # what detection would do
    assert (await rig.level("vendor") > Level.NONE) is enforced
    audit = await rig.state.audit("a:vendor")
    assert audit and audit[-1]["mode"] == ("enforce" if enforced else "shadow")
    if not enforced:
        assert any("would_level=" in r for entry in audit for r in entry["reasons"])
