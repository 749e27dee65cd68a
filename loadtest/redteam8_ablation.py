"""Ablations of red team round 8: which lever keeps a strategy unseen.

``python -m loadtest.redteam8_ablation --case code-single``

Runs the kit (full plan, one round 8 strategy only, the same accounts, seeds, slices and
pace) with one lever changed, and prints how many accounts were acted on and why:

* ``code-single``: ``red8_code_explain`` without its follow-ups (every request single-turn);
* ``replay-max``: ``red8_prompt_replay`` asking ``max_tokens`` 4096 (the documented
  maximum-output value signal is ``max_tokens`` of at least 4000);
* ``app-in-user``: ``red8_app_users`` with the app's instructions (step-by-step wording) as a
  fixed prefix of the user turn instead of the system prompt;
* ``rationale-cot``: ``red8_rationalize`` with a plain step-by-step ask appended;
* ``code-solo``: ``red8_code_explain`` without follow-ups from one account that takes 375
  coding prompts (the five accounts' slices together) instead of five taking 75;
  ``code-solo-follow``: the same with the shipped follow-ups (half the prompts);
* ``shipped-<scenario>``: a scenario as shipped (the baseline of the same run).
"""

from __future__ import annotations

import dataclasses

import loadtest.detection.redteam8 as red8
from loadtest.ablation_run import case_main
from loadtest.detection.redteam8_harvest import app_with, code_with, rationale_with, replay_with
from loadtest.detection.scenarios import FULL, Plan

CASES = {  # case -> (scenario, populate8's name, the variant)
    "code-single": ("red8_code_explain", "code_explain", code_with(follow=0.0)),
    "code-solo": ("red8_code_explain", "code_explain", code_with(follow=0.0)),
    "code-solo-follow": ("red8_code_explain", "code_explain", code_with(follow=0.5)),
    "replay-max": ("red8_prompt_replay", "prompt_replay", replay_with(limits=(4096,))),
    "app-in-user": ("red8_app_users", "app_user", app_with(in_user=True)),
    "rationale-cot": ("red8_rationalize", "rationalize", rationale_with(cot=True)),
}
SHIPPED = ("red8_code_explain", "red8_prompt_replay", "red8_app_users", "red8_rationalize")


def _plan(case: str) -> Plan:
    red = red8.RED8_FULL
    if case.startswith("code-solo"):
        red = dataclasses.replace(red, coders=1, code_prompts=5 * red.code_prompts)
    return dataclasses.replace(FULL, red8=red)


def main() -> int:
    command = "python -m loadtest.redteam8_ablation"
    return case_main(__doc__, CASES, SHIPPED, red8, _plan, command)


if __name__ == "__main__":
    raise SystemExit(main())
