"""Frozen values of the detection subsystem: observations, entity state, findings, assessments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.model import Level, Mode

CELL_BITS = 14  # semantic cells, skeletons and exact prompts are tracked in 2**14-bit bitmaps
TOPICS = 128  # coarse topics (cell >> topic_shift): per-window histogram

# Decayed counters kept per entity (all share one decay stamp).
COUNTERS = (
    "req",  # requests
    "nov_cell",  # semantic cell not seen in this or the previous window
    "nov_exact",  # exact prompt not seen
    "tpl",  # skeleton already seen while the exact prompt is new (templated slot filling)
    "fan",  # the skeleton is sent by many accounts (template fan-out)
    "elic",  # sum of fingerprint elicitation scores
    "params",  # logprobs / top_logprobs / logit_bias / n>1
    "single",  # single-turn requests
    "maxout",  # single-turn requests asking for the maximum output
    "sync",  # cluster: a different member requested just before (synchrony)
    "hug",  # the request hit or nearly hit a budget limit
    "fresh",  # the model was released within the fresh-model window
    "sys",  # requests with a system prompt
    "selic",  # sum of the system prompts' elicitation scores (counted or not per request)
    "trace",  # a schema or forced tool call asking for a trace (steps, then an answer)
    "worked",  # worked answers in the history before a new ask
    "vb0",  # requests with a structure print (trace, worked) whose print has bit 0 set ...
    "vb1",  # ... bit 1 (a fixed schema or exemplar set keeps every bit's share at 0 or 1;
    "vb2",  # ... bit 2  a structure that changes per request has them near one half)
    "reason",  # reasoning effort asked for (reasoning_effort, reasoning, thinking)
    "resample",  # best_of > 1, or a seed at a sampling temperature
    "sb0",  # requests with a system prompt whose hash has bit 0 set ...
    "sb1",  # ... bit 1 (one app prompt keeps every bit's share of "sys" at 0 or 1;
    "sb2",  # ... bit 2  a system prompt that changes per request has them near one half)
    "sb3",  # ... bit 3
    "prod",  # sum of the product-lexicon scores (data, soft labels, programs, corrections)
    # a multi-turn request whose conversation's first ask this entity never sent (in this
    # or the previous window epoch): a conversation taken over from someone else
    "adopt",
)
# the structure-print bits counted (vb0..vb2)
PRINT_BITS = 3
# the system-prompt hash bits counted (sb0..sb3)
SYSTEM_BITS = 4


def entity_of_account(account_id: str) -> str:
    return f"a:{account_id}"


def entity_of_cluster(cluster_id: str) -> str:
    return f"c:{cluster_id}"


def entity_of_template(frame: int) -> str:
    """The entity of a prompt frame: every account's requests that carry it."""
    return f"t:{frame & (2**64 - 1):016x}"


@dataclass(frozen=True, slots=True)
class Observation:
    """What one request contributes to an entity's detector state (no prompt text)."""

    cell: int
    skeleton: int  # the template: frame hash when the prompt has one, else the skeleton
    exact: int
    elicitation: float
    params: bool  # logprobs, top_logprobs, logit_bias or n > 1
    single_turn: bool
    max_output: bool
    topic: int = 0  # coarse topic, 0 <= topic < TOPICS
    member: str = ""  # the account, for cluster synchrony
    fanout: bool = False
    limited: bool = False
    fresh: bool = False
    follow_up: bool = False  # turns > 1 or a continuation: not a new topic (not in histogram)
    system: bool = False  # the request has a system prompt
    system_elicitation: float = 0.0  # the system prompt's elicitation score
    trace: bool = False  # the request asks for a trace through a schema or forced tool
    worked: bool = False  # worked answers in its history before a new ask
    value_print: int = 0  # the print of that structure (0: none)
    reasoning: bool = False  # reasoning effort asked for
    resample: bool = False  # best_of > 1, or a seed at a sampling temperature
    system_print: int = 0  # the low SYSTEM_BITS bits of the system prompt's hash (0: none)
    product: float = 0.0  # the user turn's distillation-product asks (product lexicon)
    # a follow-up or continuation: its conversation's first real ask, exact hash and coarse
    # topic (0: the request is that ask); the store tests the hash against its exact bitmap
    thread: int = 0
    thread_topic: int = 0

    def increments(self, novel_cell: bool, novel_exact: bool, templated: bool) -> dict[str, float]:
        """The counter increments of this observation, given its novelty flags."""
        return {
            "req": 1.0,
            "nov_cell": float(novel_cell),
            "nov_exact": float(novel_exact),
            "tpl": float(templated),
            "fan": float(self.fanout),
            "elic": max(0.0, min(1.0, self.elicitation)),
            "params": float(self.params),
            "single": float(self.single_turn),
            "maxout": float(self.single_turn and self.max_output),
            "hug": float(self.limited),
            "fresh": float(self.fresh),
            "sys": float(self.system),
            "selic": max(0.0, min(1.0, self.system_elicitation)),
            "trace": float(self.trace),
            "worked": float(self.worked),
            "vb0": float(self.value_print & 1),
            "vb1": float(self.value_print >> 1 & 1),
            "vb2": float(self.value_print >> 2 & 1),
            "reason": float(self.reasoning),
            "resample": float(self.resample),
            "sb0": float(self.system_print & 1),
            "sb1": float(self.system_print >> 1 & 1),
            "sb2": float(self.system_print >> 2 & 1),
            "sb3": float(self.system_print >> 3 & 1),
            "prod": max(0.0, min(1.0, self.product)),
        }


@dataclass(frozen=True, slots=True)
class Pin:
    """An operator's (or the verification flow's) fixed level, until it expires or is cleared."""

    level: Level
    until: float
    actor: str
    reason: str
    verification: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "level": int(self.level),
            "until": self.until,
            "actor": self.actor,
            "reason": self.reason,
            "verification": self.verification,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pin:
        return cls(
            level=Level(int(data["level"])),
            until=float(data["until"]),
            actor=str(data.get("actor", "")),
            reason=str(data.get("reason", "")),
            verification=bool(data.get("verification", False)),
        )


@dataclass(frozen=True, slots=True)
class ScoreState:
    """The scorer's memory: the held (slowly decaying) score and the current level."""

    held: float = 0.0
    stamp: float = 0.0
    level: Level = Level.NONE
    until: float = 0.0  # the level's expiry

    def level_at(self, now: float) -> Level:
        return self.level if self.until > now else Level.NONE


@dataclass(frozen=True, slots=True)
class EntityState:
    """An entity's detector state after (or without) an observation."""

    entity: str
    requests: int = 0  # raw requests since the state was created (it expires when idle)
    first_seen: float = 0.0
    last_seen: float = 0.0
    counters: dict[str, float] = field(default_factory=dict)  # decayed, see COUNTERS
    iat_mean: float = 0.0  # EWMA of inter-arrival seconds
    iat_var: float = 0.0  # EW variance of inter-arrival seconds
    iat_samples: int = 0
    novelty_ewma: float = 1.0  # recent share of novel cells (does novelty flatten?)
    active_hours: int = 0  # distinct hours of day active in the last 24 h
    histogram: tuple[int, ...] = ()  # coarse-topic counts, this and the previous window
    score: ScoreState = ScoreState()
    pin: Pin | None = None

    def counter(self, name: str) -> float:
        return self.counters.get(name, 0.0)

    def share(self, name: str) -> float:
        """A decayed counter as a share of decayed requests (0 when there are none)."""
        req = self.counter("req")
        return min(1.0, self.counter(name) / req) if req > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector family's verdict on an entity."""

    family: str
    score: float  # 0..1
    reasons: tuple[str, ...] = ()
    shadow: bool = False  # computed and reported, not used for the enforced level


@dataclass(frozen=True, slots=True)
class Assessment:
    """The scorer's verdict on an entity after one observation."""

    entity: str
    score: float  # the enforced (held) risk score
    level: Level  # the level in force (or that would be, in shadow mode)
    families: tuple[Finding, ...] = ()
    reasons: tuple[str, ...] = ()
    changed: bool = False  # the level differs from the previous one
    previous: Level = Level.NONE
    mode: Mode = "enforce"  # shadow: the level was not written ("would_level")
    pinned: bool = False
    raw: float = 0.0  # this observation's un-held score
    shadow_score: float = 0.0  # the score if shadow families were enforced too
    refresh: bool = False  # the level's TTL should be rewritten (level held, TTL running out)

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "score": round(self.score, 4),
            "level": self.level.label,
            "previous": self.previous.label,
            "mode": self.mode,
            "pinned": self.pinned,
            "raw": round(self.raw, 4),
            "shadow_score": round(self.shadow_score, 4),
            "families": {
                f.family: {
                    "score": round(f.score, 4),
                    "reasons": list(f.reasons),
                    "shadow": f.shadow,
                }
                for f in self.families
            },
            "reasons": list(self.reasons),
        }
