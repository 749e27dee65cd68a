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

import argparse
import asyncio
import dataclasses

import loadtest.detection.redteam9 as red9
from gateway.observability.logging import configure_logging
from loadtest.detection.evaluate import Options, evaluate
from loadtest.detection.redteam9_harvest import cache_with, rater_with
from loadtest.detection.scenarios import FULL

CASES = {  # case -> (scenario, populate9's name, the variant)
    "rater-in-user": ("red9_quality_rater", "quality_rater", rater_with(in_user=True)),
    "cache-in-system": ("red9_cache_ride", "cache_ride", cache_with(in_system=True)),
}
SHIPPED = ("red9_quality_rater", "red9_cache_ride")


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--case", choices=(*CASES, *(f"shipped-{s}" for s in SHIPPED)), required=True)
    p.add_argument("--trace", help="family scores at 40/100/300 requests (JSON), as the kit's")
    args = p.parse_args()
    configure_logging("json", "error")
    if args.case.startswith("shipped-"):
        scenario = args.case.removeprefix("shipped-")
    else:
        scenario, name, fn = CASES[args.case]
        vars(red9)[name] = fn  # what populate9 adds
    options = Options(
        command="python -m loadtest.redteam9_ablation", only=frozenset({scenario}), trace=args.trace
    )
    plan = dataclasses.replace(FULL, red9=red9.RED9_FULL)
    result = asyncio.run(evaluate(plan, options))
    s = result["scenarios"][scenario]
    print(
        f"{args.case}: {s['accounts']} accounts, {s['requests']} requests, throttled "
        f"{s['ever_throttled']:.1%}, challenged {s['ever_challenged']:.1%}, responses before "
        f"throttle {s['responses_before_throttle']}, reasons {s['first_action_reasons']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
