"""One red-team ablation case run through the kit: the shared tail of the
``loadtest.redteam*_ablation`` commands (rounds 8 and 9)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType

from gateway.observability.logging import configure_logging
from loadtest.detection.evaluate import Options, evaluate
from loadtest.detection.scenarios import BehaviourFn, Plan


def run_case(case: str, plan: Plan, scenario: str, command: str, trace: str | None) -> str:
    """Run ``plan`` with only ``scenario`` and say how many accounts were acted on and why."""
    configure_logging("json", "error")
    options = Options(command=command, only=frozenset({scenario}), trace=trace)
    result = asyncio.run(evaluate(plan, options))
    s = result["scenarios"][scenario]
    return (
        f"{case}: {s['accounts']} accounts, {s['requests']} requests, throttled "
        f"{s['ever_throttled']:.1%}, challenged {s['ever_challenged']:.1%}, responses before "
        f"throttle {s['responses_before_throttle']}, reasons {s['first_action_reasons']}"
    )


def case_main(
    doc: str | None,
    cases: Mapping[str, tuple[str, str, BehaviourFn]],
    shipped: Iterable[str],
    namespace: ModuleType,
    plan_for: Callable[[str], Plan],
    command: str,
) -> int:
    """The command line of a round's ablations: ``--case`` (a case of ``cases``, whose
    variant replaces the behaviour of that name in the round's plan module ``namespace``, or
    ``shipped-<scenario>``) and ``--trace``; ``plan_for(case)`` is the run's plan."""
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    p.add_argument("--case", choices=(*cases, *(f"shipped-{s}" for s in shipped)), required=True)
    p.add_argument("--trace", help="family scores at 40/100/300 requests (JSON), as the kit's")
    args = p.parse_args()
    if args.case.startswith("shipped-"):
        scenario = args.case.removeprefix("shipped-")
    else:
        scenario, name, fn = cases[args.case]
        vars(namespace)[name] = fn  # what the round's populate adds
    print(run_case(args.case, plan_for(args.case), scenario, command, args.trace))
    return 0
