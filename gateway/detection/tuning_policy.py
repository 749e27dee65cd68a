"""The ``detection.tuning`` policy section: detector parameters (rarely changed; the
calibration harness sets them). Part of :class:`gateway.detection.config.DetectionPolicy`."""

from __future__ import annotations

from pydantic import Field

from gateway.detection.level_names import LevelName
from gateway.notation import Duration, PolicyModel


class Tuning(PolicyModel):
    """Detector parameters (rarely changed; the calibration harness sets them)."""

    window: Duration = Field(
        default=24 * 3600.0,
        description="Detector state window: idle entities' state expires after this.",
    )
    max_output_tokens: int = Field(
        default=4000,
        ge=1,
        description="max_tokens at or above this counts as a maximum-output request.",
    )
    template_fanout: int = Field(
        default=5,
        ge=2,
        description="Distinct accounts sending one prompt frame (fixed text around a variable "
        "body) before it counts as fanned out.",
    )
    template_accounts: int = Field(
        default=20,
        ge=2,
        description="Distinct accounts (within the window) sending one prompt frame before "
        "the frame is scored as an entity of its own (catches hydras of small accounts).",
    )
    cohorts: bool = Field(
        default=True,
        description="Score ask cohorts: single-turn requests whose user turn carries the "
        "same elicitation terms, across accounts (see gateway.detection.cohort); a cohort "
        "sent by template_accounts accounts passes its level on like a frame.",
    )
    cohort_member_requests: int = Field(
        default=3,
        ge=1,
        description="Requests an account needs before a cohort's or a frame's level passes to it.",
    )
    cohort_member_single: float = Field(
        default=0.97,
        ge=0,
        le=1,
        description="Single-turn share an account needs before a cohort's or a frame's level "
        "passes to it. The share is decayed (counter_half_life), so it reads the last hours: a "
        "squad member's stream stays at 1; a student who follows up now and then reaches "
        "0.90-0.96 in an evening of asks without one (round 22), and a floor holds for the "
        "window.",
    )
    cohort_member_elicitation: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Elicitation share (mean lexicon score of its requests) an account needs "
        "before a cohort's or a frame's level passes to it.",
    )
    cohort_member_novel: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="Share of never-seen prompts an account needs before a cohort's or a "
        "frame's level passes to it: a squad member asks each task once, an app's end users "
        "ask popular homework again and again, an evaluation re-runs its suite.",
    )
    cohort_union_novel: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Never-seen share of all its senders' requests (their union) a frame or an "
        "ask cohort needs before its level passes on: hydra members take disjoint slices of a "
        "task pool, so their union grows with the cohort (near 1); a workshop or a course whose "
        "members all run the same task set covers little beyond one member's (about one over "
        "its size). 0 turns the check off.",
    )
    synchrony: bool = Field(
        default=True,
        description="Score chance-corrected co-activity of unlinked accounts (see "
        "gateway.detection.synchrony): an account meeting several others far more often "
        "than their rates predict, whose own stream agrees, gets synchrony_level.",
    )
    synchrony_delta: Duration = Field(
        default=300.0,
        description="Two accounts meet when one requests within this long after the other.",
    )
    synchrony_local: Duration = Field(
        default=3600.0,
        description="Chance meetings are predicted from the partner's episodes within this "
        "long either side (its local rate: accounts awake at the same hours are not synchrony).",
    )
    synchrony_horizon: Duration = Field(
        default=3 * 86400.0,
        description="Meetings and episodes older than this are forgotten (a squad working "
        "office hours meets a few times a day; the horizon spans several days).",
    )
    synchrony_min_meetings: int = Field(
        default=6, ge=1, description="Meetings a pair needs before it can count as synchronous."
    )
    synchrony_alpha: float = Field(
        default=1e-4,
        gt=0,
        lt=1,
        description="Chance (Poisson upper tail at the pair's own rates) below which a pair's "
        "meetings count as synchronous.",
    )
    synchrony_partners: int = Field(
        default=3, ge=1, description="Synchronous partners an account needs to be acted on."
    )
    synchrony_member_novel: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="Share of never-seen prompts an account's own stream needs (besides the "
        "single-turn share cohort_member_single) before synchrony acts on it.",
    )
    synchrony_level: LevelName = Field(
        default="throttle",
        description="The level synchrony passes to an account whose own stream agrees.",
    )
    stack_churn: bool = Field(
        default=True,
        description="Score client-stack churn (see gateway.detection.stacks): an account whose "
        "client software (User-Agent product, SDK and version) keeps changing, whose own "
        "stream agrees (single-turn, never-seen asks) and carries a harvest-value signal "
        "(stack_churn_value_min), gets stack_churn_level.",
    )
    stack_churn_recent: int = Field(
        default=32, ge=2, le=256, description="Recent client stacks kept per account."
    )
    stack_churn_min: int = Field(
        default=16,
        ge=2,
        description="Requests with stack headers an account needs before churn can count.",
    )
    stack_churn_distinct: int = Field(
        default=6,
        ge=2,
        description="Distinct client stacks among the recent ones at which an account churns "
        "(an installation sends one; an SDK upgrade or a second tool makes two or three).",
    )
    stack_churn_value_min: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Elicitation family score (CoT wording, logprobs or n>1, maximum output), "
        "counted from stack_churn_min requests, at which a churning account's stream carries a "
        "harvest-value signal. Churn alone is also one company's services, each with its own "
        "SDK (their plain asks score 0); lower than value_min because churn is judged early.",
    )
    stack_churn_level: LevelName = Field(
        default="challenge",
        description="The level stack churn passes to an account whose own stream agrees.",
    )
    template_max_level: LevelName = Field(
        default="challenge",
        description="Highest level a frame's own score passes on to the accounts sending it "
        "(their own evidence can still go higher).",
    )
    counter_half_life: Duration = Field(
        default=6 * 3600.0, description="Half-life of the decayed per-entity counters."
    )
    topic_shift: int = Field(
        default=7,
        ge=0,
        le=24,
        description="Coarse topic = (cell >> topic_shift) mod 128; 7 keeps the first LSH "
        "group of a 14-bit cell (128 topics).",
    )
    model_releases: dict[str, float] = Field(
        default_factory=dict,
        description="Model name -> release time (Unix seconds): requests to a model this "
        "fresh count toward the newest-model signal.",
    )
    fresh_window: Duration = Field(
        default=24 * 3600.0, description="How long after its release a model counts as fresh."
    )
    reasoning_min_tokens: int = Field(
        default=256,
        ge=0,
        description="A request whose max_tokens is below this counts its chain-of-thought "
        "wording in proportion (max_tokens / this): a 64-token answer holds no reasoning "
        'trace. A continuation ("continue" after a cut answer) counts the max_tokens of '
        "all its pieces: one trace asked in pieces. 0 turns the discount off.",
    )
