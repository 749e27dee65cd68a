"""Ablations of red team round 9: which lever keeps a strategy unseen.

``python -m loadtest.redteam9_ablation --case rater-in-user``

Runs the kit (full plan, one round 9 strategy only, the same accounts, seeds, slices and
pace) with one lever changed, and prints how many accounts were acted on and why:

* ``rater-in-user``: ``red9_quality_rater`` with the grading prompt after the passage in the
  user turn (where FineWeb-Edu's annotation prompt put it) instead of the system prompt;
* ``cache-in-system``: ``red9_cache_ride`` with the worksheet as the system prompt (changing
  every eight requests) and the ask alone as the user turn;
* ``shipped-<scenario>``: a scenario as shipped (the baseline of the same run).
"""

from __future__ import annotations

import dataclasses

import loadtest.detection.redteam9 as red9
from loadtest.ablation_run import case_main
from loadtest.detection.redteam9_harvest import cache_with, rater_with
from loadtest.detection.scenarios import FULL

CASES = {  # case -> (scenario, populate9's name, the variant)
    "rater-in-user": ("red9_quality_rater", "quality_rater", rater_with(in_user=True)),
    "cache-in-system": ("red9_cache_ride", "cache_ride", cache_with(in_system=True)),
}
SHIPPED = ("red9_quality_rater", "red9_cache_ride")


def main() -> int:
    plan = dataclasses.replace(FULL, red9=red9.RED9_FULL)
    command = "python -m loadtest.redteam9_ablation"
    return case_main(__doc__, CASES, SHIPPED, red9, lambda _: plan, command)


if __name__ == "__main__":
    raise SystemExit(main())
