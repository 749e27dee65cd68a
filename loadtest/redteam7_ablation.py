"""Ablation of red team round 7's two-turn drip: which of its two levers keeps it unseen.

``python -m loadtest.redteam7_ablation --turns one --max-tokens 1500``

Runs the kit (full plan, ``red7_twoturn_drip`` only: 40 throw-away accounts born eight at a
time, 30 step-by-step asks each, the same births, pool slices and wording) with each ask
single-turn (``--turns one``) or after the chatty opener (``two``, the scenario as shipped),
at ``--max-tokens``; prints how many accounts were acted on and why.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
from collections.abc import Callable
from typing import Any

import loadtest.detection.redteam7 as red7
from gateway.observability.logging import configure_logging
from loadtest.detection.context import Context, ask
from loadtest.detection.evaluate import Options, evaluate
from loadtest.detection.redteam4_text import body
from loadtest.detection.redteam7_harvest import DRIP_BATCH
from loadtest.detection.redteam7_text import OPENER_REPLIES, OPENERS, cot_ask
from loadtest.detection.scenarios import FULL
from loadtest.detection.stacks import client_stack
from loadtest.detection.traffic import DAY, HOUR, Account, Behaviour, Request

SCENARIO = "red7_twoturn_drip"


def variant(two: bool, limit: int) -> Callable[[int], Callable[[Account, Context], Behaviour]]:
    """``drip_member`` with the opener on or off and ``max_tokens`` set to ``limit``."""

    def member_of(index: int) -> Callable[[Account, Context], Behaviour]:
        def member(acc: Account, ctx: Context) -> Behaviour:
            rng = ctx.rng(acc)
            stack = client_stack(rng)
            pool = list(dict.fromkeys(ctx.pools.harvest))
            random.Random("red7-drip-split").shuffle(pool)
            mine = [pool[(index * acc.planned + j) % len(pool)] for j in range(acc.planned)]
            lead = min(1.5, ctx.days / 4) * DAY
            t = ctx.start + lead + (index // DRIP_BATCH) * 0.5 * DAY
            t += rng.uniform(0, 1.5) * HOUR
            rng.choice((500, 600, 700, 780))  # the shipped limit's draw, to keep the stream
            for task in mine:
                messages: list[dict[str, Any]] = []
                if two:
                    messages += [
                        {"role": "user", "content": rng.choice(OPENERS)},
                        {"role": "assistant", "content": rng.choice(OPENER_REPLIES)},
                    ]
                messages.append({"role": "user", "content": cot_ask(rng, task)})
                request = Request(body(messages, max_tokens=limit), harvest=True, headers=stack)
                t, out = yield from ask(t, request)
                if out.stopped:
                    return
                t += rng.uniform(12, 45)

        return member

    return member_of


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", choices=("one", "two"), required=True)
    p.add_argument("--max-tokens", type=int, required=True)
    args = p.parse_args()
    configure_logging("json", "error")
    vars(red7)["drip_member"] = variant(args.turns == "two", args.max_tokens)  # populate7's
    plan = dataclasses.replace(FULL, red7=red7.Red7Plan(drips=40))
    options = Options(command="python -m loadtest.redteam7_ablation", only=frozenset({SCENARIO}))
    result = asyncio.run(evaluate(plan, options))
    s = result["scenarios"][SCENARIO]
    print(
        f"turns={args.turns} max_tokens={args.max_tokens}: {s['accounts']} accounts, "
        f"{s['requests']} requests, throttled {s['ever_throttled']:.1%}, challenged "
        f"{s['ever_challenged']:.1%}, reasons {s['first_action_reasons']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
