"""Ask cohorts: the population-level view of accounts too light to score one by one.

A hydra of light accounts (a few dozen requests each, no shared payment, org or network)
escapes every per-account score: each member is below ``min_requests``. What its members
share is the ask, not the wording around it: paraphrased openers and closers change the
prompt's frame, while the elicitation lexicon maps "walk me through your reasoning" and
"explain your thinking step by step" to the same canonical term ids. A single-turn request
whose user turn carries elicitation terms joins the cohort of that term set
(:func:`cohort_key`); the cohort is scored like a prompt frame (``t:<key>``, see
:mod:`gateway.detection.batch`) from the requests of every account that sends it.

Members are acted on one by one, never as a crowd: a cohort's level passes to an account
only when the account's own stream agrees (:func:`member_agrees`): enough requests of its own,
nearly all single-turn, nearly all carrying the ask and nearly all never sent before. An honest
user who once asks for steps, a tutoring app whose students follow up or ask the popular
homework again, an evaluation re-running its suite, is not a member by that test.
A system prompt's wording never makes a cohort (every end user of an app sends it).
"""

from __future__ import annotations

from gateway.detection.config import DetectionPolicy
from gateway.detection.types import EntityState
from gateway.fingerprints.hashing import stable_hash64
from gateway.model import Fingerprint, RequestFeatures

_SALT = b"dg-ask-cohort"


def cohort_key(fingerprint: Fingerprint, features: RequestFeatures) -> int:
    """The request's ask cohort (0: none): its elicitation term ids, for a single-turn request
    whose user turn carries elicitation wording. Pleasantry exchanges before the ask ("hi" /
    "Of course!", :mod:`gateway.fingerprints.opener`) are not turns, but such asks make a
    cohort of their own (the term set's, marked "opened"): one population's shape is one
    cohort. Measured (tuning split, round 18): with one cohort for both, the 40 two-turn drip
    accounts raised the plain single-turn "step by step" cohort to challenge and a lab
    course's students (red5_research_student, the same wording single-turn) with it, from
    20.8 % throttled to 41.7 % harmed, 20.8 % challenged."""
    if features.turns - features.opened > 1:
        return 0
    if fingerprint.elicitation <= 0 or not fingerprint.elicitation_terms:
        return 0
    key = "|".join(sorted(fingerprint.elicitation_terms))
    if features.opened:
        key += "|opened"
    return stable_hash64(key, _SALT) or 1


def member_agrees(state: EntityState, policy: DetectionPolicy) -> bool:
    """The account's own stream is that of a cohort member: at least
    ``cohort_member_requests`` requests, single-turn, elicitation and never-seen shares at
    or above ``cohort_member_single``, ``cohort_member_elicitation`` and
    ``cohort_member_novel`` (a member asks each task once; the end users of an app repeat
    popular asks)."""
    c = policy.tuning
    if state.requests < c.cohort_member_requests:
        return False
    return (
        state.share("single") >= c.cohort_member_single
        and state.share("elic") >= c.cohort_member_elicitation
        and state.share("nov_exact") >= c.cohort_member_novel
    )
