"""Who takes part in a run: accounts of every benign persona and harvest strategy.

Quick mode (CI smoke test) runs the same scenarios with fewer accounts, fewer simulated days
and smaller hydras; its numbers are not the published ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from loadtest.detection.context import Context
from loadtest.detection.harvest import STRATEGIES, hydra_member, paraphrase_member
from loadtest.detection.personas import PERSONAS
from loadtest.detection.redteam import RED_FULL, RED_NONE, RED_QUICK, RedPlan, populate
from loadtest.detection.redteam2 import RED2_FULL, RED2_NONE, RED2_QUICK, Red2Plan, populate2
from loadtest.detection.redteam3 import RED3_FULL, RED3_NONE, RED3_QUICK, Red3Plan, populate3
from loadtest.detection.redteam4 import RED4_FULL, RED4_NONE, RED4_QUICK, Red4Plan, populate4
from loadtest.detection.redteam5 import RED5_FULL, RED5_NONE, RED5_QUICK, Red5Plan, populate5
from loadtest.detection.redteam6 import RED6_FULL, RED6_NONE, RED6_QUICK, Red6Plan, populate6
from loadtest.detection.redteam7 import RED7_FULL, RED7_NONE, RED7_QUICK, Red7Plan, populate7
from loadtest.detection.redteam8 import RED8_FULL, RED8_NONE, RED8_QUICK, Red8Plan, populate8
from loadtest.detection.redteam9 import RED9_FULL, RED9_NONE, RED9_QUICK, Red9Plan, populate9
from loadtest.detection.redteam10 import (
    RED10_FULL,
    RED10_NONE,
    RED10_QUICK,
    Red10Plan,
    populate10,
)
from loadtest.detection.redteam11 import (
    RED11_FULL,
    RED11_NONE,
    RED11_QUICK,
    Red11Plan,
    populate11,
)
from loadtest.detection.redteam12 import (
    RED12_FULL,
    RED12_NONE,
    RED12_QUICK,
    Red12Plan,
    populate12,
)
from loadtest.detection.redteam13 import (
    RED13_FULL,
    RED13_NONE,
    RED13_QUICK,
    Red13Plan,
    populate13,
)
from loadtest.detection.redteam14 import (
    RED14_FULL,
    RED14_NONE,
    RED14_QUICK,
    Red14Plan,
    populate14,
)
from loadtest.detection.redteam15 import (
    RED15_FULL,
    RED15_NONE,
    RED15_QUICK,
    Red15Plan,
    populate15,
)
from loadtest.detection.redteam16 import (
    RED16_FULL,
    RED16_NONE,
    RED16_QUICK,
    Red16Plan,
    populate16,
)
from loadtest.detection.traffic import Account, Behaviour, Role

BehaviourFn = Callable[[Account, Context], Behaviour]
NAT_IP = "198.51.100.7"
SQUAD_SPREAD = 2.0  # seconds: a paraphrase squad's members fire within this of each other


@dataclass(frozen=True, slots=True)
class Plan:
    """The size of a run."""

    name: str
    days: float
    cap: int  # harvest responses each pure harvesting account tries to extract
    scale: float  # benign volume multiplier
    benign: dict[str, int]  # persona -> accounts
    harvesters: int  # accounts per single-account strategy
    hydras: tuple[tuple[int, int], ...]  # (members, tasks in all), spread over hydra_days
    hydra_days: float
    solve_budget: int  # proof-of-work challenges honest clients solve in all (CPU bound)
    # hydra_paraphrase: (members, tasks per member, members per squad); each squad shares a
    # proxy /24 and fires together, no shared template, payment or org
    paraphrase: tuple[int, int, int] = (0, 0, 1)
    paraphrase_period: float = 2 * 3600.0  # seconds between a squad's waves (about)
    red: RedPlan = RED_NONE  # the red team's strategies and look-alikes (redteam.py)
    red2: Red2Plan = RED2_NONE  # round 11b's (redteam2.py)
    red3: Red3Plan = RED3_NONE  # round 3's (redteam3.py)
    red4: Red4Plan = RED4_NONE  # round 4's (redteam4.py)
    red5: Red5Plan = RED5_NONE  # round 5's (redteam5.py)
    red6: Red6Plan = RED6_NONE  # round 6's (redteam6.py)
    red7: Red7Plan = RED7_NONE  # round 7's (redteam7.py)
    red8: Red8Plan = RED8_NONE  # round 8's (redteam8.py)
    red9: Red9Plan = RED9_NONE  # round 9's (redteam9.py)
    red10: Red10Plan = RED10_NONE  # round 10's (redteam10.py)
    red11: Red11Plan = RED11_NONE  # round 11's (redteam11.py)
    red12: Red12Plan = RED12_NONE  # round 12's (redteam12.py)
    red13: Red13Plan = RED13_NONE  # round 13's (redteam13.py)
    red14: Red14Plan = RED14_NONE  # round 14's (redteam14.py)
    red15: Red15Plan = RED15_NONE  # round 15's (redteam15.py)
    red16: Red16Plan = RED16_NONE  # round 16's (redteam16.py)


FULL = Plan(
    name="full",
    days=14,
    cap=3000,
    scale=1.0,
    benign={
        "casual_chat": 80,
        "developer": 40,
        "tutoring_app": 15,
        "eval_harness": 15,
        "batch_summariser": 10,
        "agent_framework": 40,
        "power_user_24_7": 15,
        "corporate_nat": 60,
        "responses_tutor": 6,
    },
    harvesters=10,
    hydras=((10, 6000), (100, 10000), (1000, 20000)),
    hydra_days=7,
    solve_budget=300,
    paraphrase=(100, 40, 10),
    red=RED_FULL,
    red2=RED2_FULL,
    red3=RED3_FULL,
    red4=RED4_FULL,
    red5=RED5_FULL,
    red6=RED6_FULL,
    red7=RED7_FULL,
    red8=RED8_FULL,
    red9=RED9_FULL,
    red10=RED10_FULL,
    red11=RED11_FULL,
    red12=RED12_FULL,
    red13=RED13_FULL,
    red14=RED14_FULL,
    red15=RED15_FULL,
    red16=RED16_FULL,
)
QUICK = Plan(
    name="quick",
    days=3,
    cap=400,
    scale=0.3,
    benign={
        "casual_chat": 6,
        "developer": 3,
        "tutoring_app": 2,
        "eval_harness": 2,
        "batch_summariser": 2,
        "agent_framework": 4,
        "power_user_24_7": 2,
        "corporate_nat": 6,
        "responses_tutor": 2,
    },
    harvesters=2,
    hydras=((10, 600), (20, 600), (40, 800)),
    hydra_days=2.5,
    solve_budget=10,
    paraphrase=(20, 30, 10),
    red=RED_QUICK,
    red2=RED2_QUICK,
    red3=RED3_QUICK,
    red4=RED4_QUICK,
    red5=RED5_QUICK,
    red6=RED6_QUICK,
    red7=RED7_QUICK,
    red8=RED8_QUICK,
    red9=RED9_QUICK,
    red10=RED10_QUICK,
    red11=RED11_QUICK,
    red12=RED12_QUICK,
    red13=RED13_QUICK,
    red14=RED14_QUICK,
    red15=RED15_QUICK,
    red16=RED16_QUICK,
)


def _seed(name: str, seed: int) -> int:
    return zlib.crc32(f"{seed}:{name}".encode())


def _ip(n: int) -> str:
    """A distinct address in a distinct /24 for account number ``n``."""
    return f"10.{(n >> 8) & 255}.{n & 255}.{1 + n % 200}"


def build(
    plan: Plan, seed: int = 1, only: frozenset[str] = frozenset()
) -> list[tuple[Account, BehaviourFn]]:
    """Every account of the run (of the scenarios in ``only``, if given) with its behaviour,
    in a deterministic order."""
    out: list[tuple[Account, BehaviourFn]] = []

    def add(
        scenario: str,
        role: Role,
        fn: BehaviourFn,
        *,
        ip: str | None = None,
        planned: int = 0,
        tier: str = "pro",
        attrs: Mapping[str, str] | None = None,
    ) -> None:
        n = len(out)
        name = f"{scenario}-{sum(1 for a, _ in out if a.scenario == scenario):04d}"
        acc = Account(
            name=name,
            scenario=scenario,
            role=role,
            behaviour_seed=_seed(name, seed),
            client_ip=ip or _ip(n + 1),
            planned=planned,
            tier=tier,
            attrs=attrs or {},
        )
        out.append((acc, fn))

    for persona, count in plan.benign.items():
        for _ in range(count):
            add(
                persona,
                "benign",
                PERSONAS[persona],
                ip=NAT_IP if persona == "corporate_nat" else None,
            )
    for strategy, fn in STRATEGIES.items():
        planned = plan.cap if strategy != "low_and_slow" else min(plan.cap, int(30 * plan.days))
        for _ in range(plan.harvesters):
            add(strategy, "harvest", fn, planned=planned)
    for label, (members, total) in zip(
        ("hydra_10", "hydra_100", "hydra_1000"), plan.hydras, strict=True
    ):
        interval = plan.hydra_days * 86400.0 / total
        for i in range(members):
            add(label, "harvest", hydra_member(i, members, interval), planned=-(-total // members))
    members, per_member, squad_size = plan.paraphrase
    for i in range(members):
        squad = i // squad_size
        fn = paraphrase_member(squad, plan.paraphrase_period, SQUAD_SPREAD)
        ip = f"100.64.{squad}.{10 + i % squad_size}"  # the squad's proxy /24
        add("hydra_paraphrase", "harvest", fn, ip=ip, planned=per_member)
    populate(plan.red, add, seed)
    populate2(plan.red2, add)
    populate3(plan.red3, add)
    populate4(plan.red4, add)
    populate5(plan.red5, add)
    populate6(plan.red6, add)
    populate7(plan.red7, add)
    populate8(plan.red8, add)
    populate9(plan.red9, add)
    populate10(plan.red10, add)
    populate11(plan.red11, add)
    populate12(plan.red12, add)
    populate13(plan.red13, add)
    populate14(plan.red14, add)
    populate15(plan.red15, add)
    populate16(plan.red16, add)
    return [(acc, fn) for acc, fn in out if not only or acc.scenario in only]
