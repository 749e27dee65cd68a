"""The ``detection:`` policy section: harvest detection and graduated responses.

An absent section is valid and means detection ON, enforced, with the defaults below.
Per-tier overrides (``tiers: {enterprise: {challenge_exempt: true}}``) are merged over the
top-level values by :meth:`DetectionPolicy.for_tier`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from gateway.detection.coordination_policy import Coordination
from gateway.detection.level_names import LevelName, level_of
from gateway.detection.newcomer_policy import Newcomers
from gateway.detection.tuning_policy import Tuning
from gateway.model import Level, Mode
from gateway.notation import Duration, PolicyModel

FAMILIES = ("coverage", "templating", "elicitation", "shape", "timing")
__all__ = ["FAMILIES", "DetectionPolicy", "LevelName", "Tuning", "level_of"]


def _per_level(section: PolicyModel, level: Level) -> float:
    """The field of a section named after ``level`` (throttle, degrade, challenge, block);
    0 for NONE."""
    return 0.0 if level <= Level.NONE else float(getattr(section, level.name.lower()))


class Thresholds(PolicyModel):
    """Risk score (0..1) at or above which each level applies; must be increasing."""

    throttle: float = Field(default=0.35, ge=0, le=1, description="Score that throttles.")
    degrade: float = Field(default=0.5, ge=0, le=1, description="Score that degrades requests.")
    challenge: float = Field(
        default=0.7, ge=0, le=1, description="Score that requires a proof-of-work challenge."
    )
    block: float = Field(default=0.88, ge=0, le=1, description="Score that blocks the entity.")

    @model_validator(mode="after")
    def _increasing(self) -> Thresholds:
        values = [self.throttle, self.degrade, self.challenge, self.block]
        if values != sorted(values):
            raise ValueError("thresholds must satisfy throttle <= degrade <= challenge <= block")
        return self

    def level_for(self, score: float) -> Level:
        """The highest level whose threshold ``score`` reaches."""
        for level, threshold in (
            (Level.BLOCK, self.block),
            (Level.CHALLENGE, self.challenge),
            (Level.DEGRADE, self.degrade),
            (Level.THROTTLE, self.throttle),
        ):
            if score >= threshold:
                return level
        return Level.NONE

    def threshold(self, level: Level) -> float:
        """The score threshold of ``level`` (0 for NONE)."""
        return _per_level(self, level)


class LevelTTLs(PolicyModel):
    """How long a level is held after the last assessment that justified it."""

    throttle: Duration = Field(default=3600.0, description="TTL of the throttle level.")
    degrade: Duration = Field(default=2 * 3600.0, description="TTL of the degrade level.")
    challenge: Duration = Field(default=6 * 3600.0, description="TTL of the challenge level.")
    block: Duration = Field(default=24 * 3600.0, description="TTL of the block level.")

    def ttl(self, level: Level) -> float:
        """Seconds ``level`` is held (0 for NONE)."""
        return _per_level(self, level)


class Escalation(PolicyModel):
    """Escalate fast, decay slowly: the hysteresis of the risk score."""

    half_life: Duration = Field(
        default=6 * 3600.0,
        gt=0,
        description="Half-life of the held risk score once the evidence weakens (e.g. 6h).",
    )
    hysteresis: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="A level is left only when the held score falls this far below its threshold.",
    )


class FamilyPolicy(PolicyModel):
    """Weight and mode of one detector family."""

    weight: float = Field(default=1.0, ge=0, description="Relative weight in the risk score.")
    mode: Mode = Field(
        default="enforce",
        description="shadow: computed and reported, but not used for the enforced level.",
    )


def _family(weight: float, description: str) -> Any:
    """A family's field: its default weight (enforced) and what it detects."""
    return Field(default_factory=lambda: FamilyPolicy(weight=weight), description=description)


class Families(PolicyModel):
    """The detector families (see gateway.detection.detectors)."""

    coverage: FamilyPolicy = _family(
        1.0, "Topic coverage: novelty rate that does not flatten, topic entropy."
    )
    templating: FamilyPolicy = _family(
        1.0, "Templated prompts: few skeletons, many contents; template fan-out."
    )
    elicitation: FamilyPolicy = _family(
        0.8,
        "Value signals: CoT/rubric lexicon, logprobs, n>1, maximum output; request structure "
        "(a response_format / forced-tool schema asking for a trace, an array then another "
        "property, and worked answers in the history before a new ask, each counted only as "
        "far as it changes from request to request; reasoning effort; a seed at a sampling "
        "temperature or best_of > 1); the reasoning asked back with the answer (a reasoning "
        "summary, thinking blocks: gateway/fingerprints/value.py) counted as an explicit "
        "trace ask; asks for the other products of distillation (new items "
        "with their solutions, soft labels in words, programs, corrections: the product "
        "lexicon, gateway/fingerprints/product_terms.py), counted only in the entity's own "
        "sweep (`PRODUCT_MEAN`, `PRODUCT_SINGLE`, `PRODUCT_FRESH`). The lexicon reads the "
        "last user turn whole (user messages in a row are one turn) and, when it holds its "
        "task encoded (base64, hex, a letter cipher such as ROT13, words backwards) or written "
        "with look-alike letters or invisible characters, its plain text "
        "(gateway/fingerprints/reveal.py, lookalikes.py); step-by-step asks are read in 33 "
        "languages (lexicon_terms.py, lexicon_world.py). It also reads what follows the last "
        "user turn "
        "(an assistant prefill, tool results) and, for one account whose system or developer "
        "prompt changes from request to request, that prompt (a fixed app prompt is style, "
        "not a signal). Thresholds: `STRUCTURE_SHARE`, `STRUCTURE_VARIETY`, `SYSTEM_FIXED`, "
        "`SYSTEM_VARIETY` in gateway/detection/detectors.py; `TAIL_CUE_CHARS` in "
        "gateway/fingerprints/fingerprint.py (a user turn shorter than that followed by tool "
        "results is a cue: the detection fingerprint takes the tail as the topic).",
    )
    shape: FamilyPolicy = _family(0.6, "Conversation shape: single-turn requests, no follow-ups.")
    timing: FamilyPolicy = _family(
        0.8, "Timing: machine-regular inter-arrival, no diurnal pause, cluster synchrony."
    )

    def get(self, family: str) -> FamilyPolicy:
        """The policy of ``family`` by name."""
        value = getattr(self, family)
        assert isinstance(value, FamilyPolicy)
        return value


class DegradeSettings(PolicyModel):
    """What the degrade level changes in a request body."""

    strip_logprobs: bool = Field(
        default=True,
        description="Remove logprobs (the Responses API: message.output_text.logprobs in include).",
    )
    strip_top_logprobs: bool = Field(default=True, description="Remove top_logprobs.")
    strip_logit_bias: bool = Field(default=True, description="Remove logit_bias.")
    strip_reasoning_summary: bool = Field(
        default=True,
        description="Remove the reasoning asked back with the answer: the Responses API's "
        "reasoning.summary (and generate_summary), include_reasoning.",
    )
    max_n: int = Field(default=1, ge=1, description="Cap n (completions per request).")
    max_tokens: int = Field(
        default=512,
        ge=1,
        description="Cap the answer's length (set when absent): max_tokens / "
        "max_completion_tokens; the Responses API: max_output_tokens, at least 16.",
    )


class ChallengeSettings(PolicyModel):
    """Proof-of-work challenges (the challenge level)."""

    enabled: bool = Field(
        default=True, description="Issue challenges; when false the challenge level degrades."
    )
    base_difficulty: int = Field(
        default=18, ge=1, le=32, description="Leading zero bits at the challenge threshold."
    )
    max_difficulty: int = Field(
        default=22, ge=1, le=32, description="Leading zero bits at a risk score of 1."
    )
    token_ttl: Duration = Field(default=120.0, description="Lifetime of a challenge token.")
    clearance: Duration = Field(
        default=600.0, description="After a solved challenge, requests pass for this long."
    )
    realm: str = Field(default="distillguard", description="realm of WWW-Authenticate.")

    @model_validator(mode="after")
    def _ordered(self) -> ChallengeSettings:
        if self.max_difficulty < self.base_difficulty:
            raise ValueError("challenge.max_difficulty must be >= base_difficulty")
        return self


class VerificationSettings(PolicyModel):
    """Step-up identity verification: a flag only an operator clears."""

    enabled: bool = Field(
        default=False,
        description="At the block level, require verification (403 verification_required) "
        "instead of a plain block; the flag stays until an operator clears it.",
    )
    url: str | None = Field(
        default=None, description="Where the customer verifies (sent in the error body)."
    )


class TierDetection(PolicyModel):
    """Per-tier overrides; every field absent means: as at the top level."""

    enabled: bool | None = Field(default=None, description="Detection on/off for this tier.")
    mode: Mode | None = Field(default=None, description="enforce or shadow for this tier.")
    thresholds: Thresholds | None = Field(default=None, description="Thresholds for this tier.")
    throttle_factor: float | None = Field(
        default=None, gt=0, le=1, description="Refill multiplier when throttled."
    )
    min_requests: int | None = Field(default=None, ge=1, description="Evidence before scoring.")
    max_level: LevelName | None = Field(
        default=None, description="Highest level this tier can reach (e.g. degrade)."
    )
    challenge_exempt: bool | None = Field(
        default=None, description="Never challenge this tier: the challenge level degrades instead."
    )


class DetectionPolicy(PolicyModel):
    """Harvest detection: detector families, risk score, graduated responses."""

    enabled: bool = Field(default=True, description="Run detection at all.")
    mode: Mode = Field(
        default="enforce",
        description="enforce writes levels read by the budget script; shadow only reports "
        "the level it would set.",
    )
    min_requests: int = Field(
        default=30, ge=1, description="Requests an entity needs before it is scored."
    )
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Score per level.")
    throttle_factor: float = Field(
        default=0.25, gt=0, le=1, description="Budget refill multiplier at throttle and above."
    )
    escalation: Escalation = Field(
        default_factory=Escalation, description="Decay half-life and hysteresis."
    )
    ttl: LevelTTLs = Field(default_factory=LevelTTLs, description="TTL per level.")
    content_only_max: Literal["none", "throttle", "degrade"] = Field(
        default="degrade",
        description="Highest level content signals (elicitation) alone can reach; challenge "
        "and block always need behavioural evidence.",
    )
    behaviour_only_max: Literal["none", "throttle", "degrade", "challenge", "block"] = Field(
        default="throttle",
        description="Highest level behaviour (coverage, templating, shape, timing) reaches "
        "without any harvest-value signal (elicitation lexicon, logprobs/n>1, maximum "
        "output from a machine-like sender, a changing trace schema or worked-answer history, "
        "reasoning effort, seeded resampling): evaluation harnesses and 24/7 jobs look like "
        "sweeps but extract little.",
    )
    soft_cluster_max: LevelName = Field(
        default="throttle",
        description="Highest level a cluster linked only by soft evidence (template, "
        "synchrony, IP prefix; no shared payment, org or operator link) reaches as a cluster: "
        "separate accounts running the same cron job look like one harvester. Hard-linked "
        "clusters and each account's own score keep the full range.",
    )
    coordination: Coordination = Field(
        default_factory=Coordination,
        description="A separate path for soft-only clusters that counts only coordination "
        "evidence (members firing together above chance, at their limits, one frame fanned "
        "out), never coverage or activity around the clock summed over a crowd.",
    )
    newcomers: Newcomers = Field(
        default_factory=Newcomers,
        description="Cohorts of light accounts first seen close together with early streams "
        "alike (see gateway.detection.newcomers): a floor for each member whose own stream "
        "agrees.",
    )
    min_behaviour_families: int = Field(
        default=1,
        ge=1,
        le=4,
        description="Behavioural families (coverage, templating, shape, timing) that must each "
        "score at least 0.5 before behaviour justifies any level: one family alone (a popular "
        "app template, a diverse topic mix) is not corroborated automation.",
    )
    value_min: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Elicitation family score at or above which a harvest-value signal counts.",
    )
    families: Families = Field(default_factory=Families, description="Detector families.")
    tuning: Tuning = Field(default_factory=Tuning, description="Detector parameters.")
    degrade: DegradeSettings = Field(
        default_factory=DegradeSettings, description="What degrade changes."
    )
    challenge: ChallengeSettings = Field(
        default_factory=ChallengeSettings, description="Proof-of-work challenges."
    )
    verification: VerificationSettings = Field(
        default_factory=VerificationSettings, description="Step-up verification."
    )
    max_level: LevelName = Field(default="block", description="Highest level ever applied.")
    challenge_exempt: bool = Field(
        default=False, description="Never challenge: the challenge level degrades instead."
    )
    audit_size: int = Field(
        default=200, ge=1, description="Audit records kept per entity (most recent)."
    )
    tiers: dict[str, TierDetection] = Field(
        default_factory=dict,
        description="Per-tier overrides, e.g. {enterprise: {challenge_exempt: true}}.",
    )

    def for_tier(self, tier: str | None) -> DetectionPolicy:
        """This policy with the overrides of ``tier`` applied (itself when none)."""
        override = self.tiers.get(tier) if tier is not None else None
        if override is None:
            return self
        changes = {k: v for k, v in override if v is not None}
        return self.model_copy(update=changes)

    def level_cap(self) -> Level:
        """The highest level this (tier-resolved) policy can apply."""
        return level_of(self.max_level)
