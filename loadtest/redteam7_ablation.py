"""Ablation of red team round 7's two-turn drip: which of its two levers keeps it unseen.

``python -m loadtest.redteam7_ablation --turns one --max-tokens 1500``

Runs the kit (full plan, ``red7_twoturn_drip`` only: 40 throw-away accounts born eight at a
time, 30 step-by-step asks each, the same births, pool slices and wording) with each ask
single-turn (``--turns one``) or after the chatty opener (``two``, the scenario as shipped),
at ``--max-tokens``; prints how many accounts were acted on and why.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools

import loadtest.detection.redteam7 as red7
from loadtest.ablation_run import run_case
from loadtest.detection.redteam7_harvest import drip_member
from loadtest.detection.scenarios import FULL

SCENARIO = "red7_twoturn_drip"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", choices=("one", "two"), required=True)
    p.add_argument("--max-tokens", type=int, required=True)
    args = p.parse_args()
    vars(red7)["drip_member"] = functools.partial(  # the one populate7 builds its members with
        drip_member, opener=args.turns == "two", max_tokens=args.max_tokens
    )
    plan = dataclasses.replace(FULL, red7=red7.Red7Plan(drips=40))
    case = f"turns={args.turns} max_tokens={args.max_tokens}"
    print(run_case(case, plan, SCENARIO, "python -m loadtest.redteam7_ablation", None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
