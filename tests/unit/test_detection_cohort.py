"""Ask cohorts and system-prompt style (small synthetic inputs)."""

from __future__ import annotations

from gateway.detection import detectors
from gateway.detection.cohort import cohort_key
from gateway.detection.types import EntityState
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.model import RequestFeatures

FP = Fingerprinter()
ONE = RequestFeatures(endpoint="chat", model="m")
TWO = RequestFeatures(endpoint="chat", model="m", turns=2)


def test_paraphrased_wrappers_share_the_ask_cohort() -> None:
    a = FP.fingerprint_text("Quick one: what is 17 * 23?\n\nWalk me through your thinking.")
    b = FP.fingerprint_text("Hi! Sort these numbers: 5, 2, 9.\n\nWalk me through your thinking. ty")
    assert a.frame != b.frame  # the frame breaks under paraphrase ...
    assert cohort_key(a, ONE) == cohort_key(b, ONE) != 0  # ... the ask does not


def test_no_cohort_without_user_turn_wording_or_for_a_follow_up() -> None:
    plain = FP.fingerprint_text("What is 17 * 23?")
    styled = FP.fingerprint_text("What is 17 * 23?", "Explain step by step, show your reasoning.")
    asked = FP.fingerprint_text("What is 17 * 23? Think step by step.")
    assert cohort_key(plain, ONE) == 0
    assert cohort_key(styled, ONE) == 0  # an app's system prompt makes no cohort
    assert cohort_key(asked, TWO) == 0 and cohort_key(asked, ONE) != 0


def _state(with_system: float, system_elic: float) -> EntityState:
    req = 120.0
    counters = {"req": req, "single": req, "sys": with_system * req, "selic": system_elic * req}
    return EntityState("a:x", requests=120, counters=counters, first_seen=0.0, last_seen=3600.0)


def _system_part(state: EntityState) -> float:
    found = detectors.elicitation(state, detectors.Context(min_requests=40))
    return found.score


def test_system_prompt_wording_counts_only_when_the_system_prompt_comes_and_goes() -> None:
    assert _system_part(_state(1.0, 0.8)) == 0.0  # an app: its template on every request
    assert _system_part(_state(0.5, 0.3)) > 0.5  # the ask moves between system and user turn
    assert _system_part(_state(0.5, 0.0)) == 0.0
