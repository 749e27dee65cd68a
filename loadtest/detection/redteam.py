"""The red team's accounts in a run: how many of each strategy and persona, and their identity.

Every red account is its own customer (no payment, org or device attribute, its own /24)
unless the scenario says otherwise: a classroom shares one school address.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.context import Context
from loadtest.detection.redteam_harvest import camouflage, drip, rotator, solo_mimic, squad_member
from loadtest.detection.redteam_personas import app_member, ci_job, eval_team, student
from loadtest.detection.traffic import Account, Behaviour

BehaviourFn = Callable[[Account, Context], Behaviour]


@dataclass(frozen=True, slots=True)
class RedPlan:
    """Sizes of the red-team scenarios (0 leaves one out)."""

    squads: int = 0  # unlinked paraphrasing squads ...
    squad_size: int = 0  # ... of this many members ...
    squad_tasks: int = 0  # ... each asking this many tasks, one per wave
    squad_period: float = 40 * 60.0  # seconds between a squad's waves (about)
    mimics: int = 0  # solo human-mimics with fake follow-ups (code tasks)
    mimic_tasks: int = 330
    drip: int = 0  # throw-away accounts of under 20 requests each
    rotators: int = 0  # solo sweeps rotating client stack and parameters
    rotator_tasks: int = 330
    camouflage: int = 0  # half benign-looking traffic
    camouflage_tasks: int = 330
    apps: int = 0  # customer accounts per app template (three templates)
    eval_team: int = 0
    ci: int = 0
    classes: int = 0  # classrooms behind one NAT each ...
    class_size: int = 0  # ... of this many students


RED_NONE = RedPlan()
RED_FULL = RedPlan(
    squads=10,
    squad_size=8,
    squad_tasks=150,
    mimics=15,
    drip=1000,
    rotators=15,
    camouflage=15,
    apps=8,
    eval_team=4,
    ci=12,
    classes=2,
    class_size=25,
)
RED_QUICK = RedPlan(
    squads=2,
    squad_size=5,
    squad_tasks=40,
    mimics=2,
    mimic_tasks=200,
    drip=40,
    rotators=2,
    rotator_tasks=200,
    camouflage=2,
    camouflage_tasks=150,
    apps=2,
    eval_team=1,
    ci=3,
    classes=1,
    class_size=8,
)


def populate(red: RedPlan, add: Callable[..., Any], seed: int) -> None:
    """Add the red team's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    for squad in range(red.squads):
        fn = squad_member(squad, red.squad_period)
        for _ in range(red.squad_size):
            add("red_squad_paraphrase", "harvest", fn, planned=red.squad_tasks)
    for _ in range(red.mimics):
        add("red_solo_mimic", "harvest", solo_mimic, planned=red.mimic_tasks)
    for i in range(red.drip):
        add("red_drip_1000", "harvest", drip, planned=8 + zlib.crc32(f"{seed}:{i}".encode()) % 12)
    for _ in range(red.rotators):
        add("red_sdk_rotator", "harvest", rotator, planned=red.rotator_tasks)
    for _ in range(red.camouflage):
        add("red_camouflage", "harvest", camouflage, planned=red.camouflage_tasks)
    for app in range(3 * red.apps):
        add("red_app_template", "benign", app_member(app))
    for _ in range(red.eval_team):
        add("red_eval_team", "benign", eval_team, tier="evaluation")
    for _ in range(red.ci):
        add("red_ci_hourly", "benign", ci_job)
    for klass in range(red.classes):
        for _ in range(red.class_size):
            add(
                "red_classroom_nat",
                "benign",
                student(klass),
                ip=f"192.0.2.{20 + klass}",
                tier="free",
            )
