"""Ablations of red team round 10: which lever keeps a strategy unseen.

``python -m loadtest.redteam10_ablation --case voice-cot``

Runs the kit (full plan, one round 10 strategy only, the same accounts, seeds, slices and
pace) with one lever changed, and prints how many accounts were acted on and why:

* ``voice-cot``: ``red10_voice_task`` with the textbook step-by-step ask as its text part
  (the task still only in the recording);
* ``voice-cot-text``: the same, with the task's text after the ask too (the control: what
  the recording hides);
* ``pairs-only-K``: ``red10_pref_pairs`` with only its K-th wording (0-4), for every
  request of every account;
* ``piggy-cot``: ``red10_piggyback`` with the textbook step-by-step ask on every task the
  extension sends (the volunteers' own chats unchanged);
* ``shipped-<scenario>``: a scenario as shipped (the baseline of the same run).
"""

from __future__ import annotations

import dataclasses

import loadtest.detection.redteam10 as red10
from loadtest.ablation_run import case_main
from loadtest.detection.redteam10_harvest import pairs_with, piggy_with, voice_with
from loadtest.detection.redteam10_text import COT_ASKS, PAIR_ASKS
from loadtest.detection.scenarios import FULL

PIGGY_COT = tuple(f"{{task}}\n\n{ask}" for ask in COT_ASKS)
CASES = {  # case -> (scenario, populate10's name, the variant)
    "voice-cot": ("red10_voice_task", "voice_task", voice_with(asks=COT_ASKS)),
    "voice-cot-text": ("red10_voice_task", "voice_task", voice_with(COT_ASKS, transcript=True)),
    "piggy-cot": ("red10_piggyback", "piggyback", piggy_with(asks=PIGGY_COT)),
    **{
        f"pairs-only-{k}": ("red10_pref_pairs", "pref_pairs", pairs_with(asks=(ask,)))
        for k, ask in enumerate(PAIR_ASKS)
    },
}
SHIPPED = ("red10_voice_task", "red10_pref_pairs", "red10_piggyback")


def main() -> int:
    plan = dataclasses.replace(FULL, red10=red10.RED10_FULL)
    command = "python -m loadtest.redteam10_ablation"
    return case_main(__doc__, CASES, SHIPPED, red10, lambda _: plan, command)


if __name__ == "__main__":
    raise SystemExit(main())
