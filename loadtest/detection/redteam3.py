"""Red-team round 3's accounts in a run: how many of each strategy and persona.

Every account is its own customer (own /24, own client stack, no payment, org or device)
unless the scenario says otherwise: a help desk's regional accounts share their company's
``org_id`` (a hard link, as an operator would record it) and its server's client stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadtest.detection.redteam3_harvest import (
    app_cover,
    launder,
    packer,
    reasoning_model,
    resampler,
    window_hopper,
)
from loadtest.detection.redteam3_personas import (
    SHIFTS,
    ablation_lab,
    eval_vendor,
    label_startup,
    mooc_student,
    support_desk,
)


@dataclass(frozen=True, slots=True)
class Red3Plan:
    """Sizes of round 3's scenarios (0 leaves one out)."""

    resamplers: int = 0  # few tasks, many samples each
    reasoners: int = 0  # bare tasks to a reasoning model at high effort
    hoppers: int = 0  # sessions under min_requests, idle longer than the state window
    hopper_tasks: int = 300
    covers: int = 0  # real apps slipping tasks into their users' stream
    packers: int = 0  # four to six tasks per request ...
    packer_requests: int = 200  # ... in this many requests
    launderers: int = 0  # tasks behind a person's standing interests
    tasks: int = 330  # harvest responses each other strategy's account tries to extract
    eval_vendors: int = 0
    label_startups: int = 0
    desk_companies: int = 0  # companies with three regional desk accounts each
    labs: int = 0
    courses: int = 0  # online courses ...
    students: int = 0  # ... with this many students each


RED3_NONE = Red3Plan()
RED3_FULL = Red3Plan(
    resamplers=15,
    reasoners=15,
    hoppers=40,
    covers=8,
    packers=15,
    launderers=15,
    eval_vendors=4,
    label_startups=6,
    desk_companies=2,
    labs=4,
    courses=2,
    students=20,
)
RED3_QUICK = Red3Plan(
    resamplers=2,
    reasoners=2,
    hoppers=4,
    hopper_tasks=60,
    covers=2,
    packers=2,
    packer_requests=40,
    launderers=2,
    tasks=80,
    eval_vendors=1,
    label_startups=2,
    desk_companies=1,
    labs=1,
    courses=1,
    students=6,
)


def populate3(red: Red3Plan, add: Callable[..., Any]) -> None:
    """Add round 3's accounts of ``red`` through ``add`` (``scenarios.build``'s)."""
    strategies = (
        ("red3_resampler", red.resamplers, resampler, red.tasks),
        ("red3_reasoning_model", red.reasoners, reasoning_model, red.tasks),
        ("red3_window_hopper", red.hoppers, window_hopper, red.hopper_tasks),
        ("red3_app_cover", red.covers, app_cover, red.tasks),
        ("red3_packer", red.packers, packer, red.packer_requests),
        ("red3_launder", red.launderers, launder, red.tasks),
    )
    for scenario, count, fn, planned in strategies:
        for _ in range(count):
            add(scenario, "harvest", fn, planned=planned)
    for scenario, count, persona in (
        ("red3_eval_vendor", red.eval_vendors, eval_vendor),
        ("red3_label_startup", red.label_startups, label_startup),
        ("red3_ablation_lab", red.labs, ablation_lab),
    ):
        for _ in range(count):
            add(scenario, "benign", persona)
    for company in range(red.desk_companies):
        for shift in range(len(SHIFTS)):
            fn = support_desk(company, shift)
            add("red3_support_desk", "benign", fn, attrs={"org_id": f"red3-desk-{company}"})
    for course in range(red.courses):
        for _ in range(red.students):
            add("red3_mooc_student", "benign", mooc_student(course), tier="free")
