"""Observing many requests at once: the plan and the pure scoring of one batch.

The engine observes a batch with a fixed number of store round trips, whatever its size:
template fan-out of every request, then every account and cluster observation, then the
scores to persist (see :meth:`DetectionEngine.observe_many`). The result is exactly that of
observing the requests one by one: stores apply a batch in order, and an entity observed
twice in one batch sees the score (and the pin) its earlier observation produced.

A prompt frame sent by at least ``tuning.template_accounts`` distinct accounts is also
observed as an entity of its own (``t:<frame>``), scored like a cluster from the requests of
every account that sends it. Its level (at most ``tuning.template_max_level``) is a floor for
each account sighted with the frame, for the detector window after its last request with
the frame: a hydra of accounts too small to score one by one is acted upon from its members'
first requests, however far apart each member's requests are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gateway.detection import detectors
from gateway.detection.coactivity import EpisodeRequest
from gateway.detection.cohort import cohort_key, member_agrees
from gateway.detection.config import DetectionPolicy, level_of
from gateway.detection.coordination import coordination
from gateway.detection.observation import observation
from gateway.detection.scorer import Verdict, score
from gateway.detection.stacks import StackChurn, StackRequest
from gateway.detection.state import FanoutRequest, ObserveRequest
from gateway.detection.synchrony import SynchronyAsk, SynchronyPolicy, episode
from gateway.detection.types import (
    EntityState,
    Pin,
    ScoreState,
    entity_of_account,
    entity_of_cluster,
    entity_of_template,
)
from gateway.model import Fingerprint, Identity, Level, RequestFeatures

VERIFICATION_TTL = 90 * 86400.0  # verification stays until an operator clears it (or 90 days)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One served request, as detection observes it (no prompt text)."""

    identity: Identity
    cluster_id: str
    cluster_size: int
    fingerprint: Fingerprint
    features: RequestFeatures
    now: float
    limited: bool = False


@dataclass(frozen=True, slots=True)
class Scored:
    """One entity's verdict in a batch, and what must be written for it."""

    index: int  # the sighting
    state: EntityState  # as scored (earlier verdicts of the batch applied)
    verdict: Verdict
    policy: DetectionPolicy
    now: float
    cluster_id: str
    account_id: str | None  # None: the cluster (or template) entity
    pin: Pin | None  # a verification pin to write (an account that reached block)
    template: bool = False  # the entity is a prompt frame (no level key of its own)
    floor: Level = Level.NONE  # an account: the level its frame passes on to it
    floor_until: float = 0.0


@dataclass(frozen=True, slots=True)
class _Planned:
    index: int
    sighting: Sighting
    policy: DetectionPolicy
    frame: int
    solitary: bool
    cohort: int = 0  # the ask cohort (see gateway.detection.cohort), 0: none

    @property
    def keys(self) -> tuple[int, ...]:
        """The population keys this sighting fans out to: its frame, its ask cohort."""
        return tuple(k for k in (self.frame, self.cohort) if k)


class Batch:
    """A run of sightings (no SDK retries: the engine reads those at their place): which
    are observed (detection on for the tier), their store calls and their verdicts."""

    def __init__(
        self,
        sightings: Sequence[Sighting],
        policy_for: Callable[[str | None], DetectionPolicy],
        verification_until: Callable[[], float],
        soft_only: frozenset[str] = frozenset(),
    ) -> None:
        """``soft_only``: the clusters of these sightings linked by soft evidence only."""
        tiers: dict[str | None, DetectionPolicy] = {}
        for s in sightings:
            if s.identity.tier not in tiers:
                tiers[s.identity.tier] = policy_for(s.identity.tier)
        self.policies = [tiers[s.identity.tier] for s in sightings]
        self._planned: list[_Planned] = []
        # per planned sighting: (key, senders) of each frame or cohort scored as an entity
        self._senders: list[tuple[tuple[int, int], ...]] = []
        self._verification_until = verification_until
        self._soft_only = soft_only
        for i, (s, policy) in enumerate(zip(sightings, self.policies, strict=True)):
            if policy.enabled:
                solitary = s.cluster_size <= 1 and s.cluster_id == s.identity.account_id
                cohort = cohort_key(s.fingerprint, s.features) if policy.tuning.cohorts else 0
                frame = s.fingerprint.frame
                self._planned.append(_Planned(i, s, policy, frame, solitary, cohort))

    def fanouts(self) -> list[FanoutRequest]:
        """Only framed prompts and asks fan out: a bare skeleton ("Thanks!") is a common
        phrase."""
        return [
            FanoutRequest(key, p.sighting.identity.account_id, p.policy.tuning.window)
            for p in self._planned
            for key in p.keys
        ]

    def observations(self, counts: Sequence[int]) -> list[ObserveRequest]:
        """Per sighting: its frame (when sent by enough accounts), the account and (in a
        cluster) the cluster observations, given the fan-out counts."""
        requests: list[ObserveRequest] = []
        self._senders = []
        found = iter(counts)
        for p in self._planned:
            s, policy = p.sighting, p.policy
            counted = [(key, next(found)) for key in p.keys]
            fanout = bool(p.frame) and counted[0][1] >= policy.tuning.template_fanout
            window, half_life = policy.tuning.window, policy.tuning.counter_half_life
            account = s.identity.account_id
            obs = observation(
                s.fingerprint, s.features, policy, s.now, fanout=fanout, limited=s.limited
            )
            scored = tuple((k, n) for k, n in counted if n >= policy.tuning.template_accounts)
            self._senders.append(scored)
            member = replace(obs, member=account)
            for key, _ in scored:
                entity = entity_of_template(key)
                requests.append(ObserveRequest(entity, member, s.now, window, half_life))
            requests.append(
                ObserveRequest(entity_of_account(account), obs, s.now, window, half_life)
            )
            if not p.solitary:
                obs = replace(obs, member=account)
                entity = entity_of_cluster(s.cluster_id)
                requests.append(ObserveRequest(entity, obs, s.now, window, half_life))
        return requests

    def episodes(self) -> list[EpisodeRequest]:
        """Every observed sighting of a tier with synchrony on, in order: the co-activity
        store's records (see :mod:`gateway.detection.coactivity`)."""
        return [
            episode(p.sighting.identity.account_id, p.sighting.now, synchrony_policy(p.policy))
            for p in self._planned
            if p.policy.tuning.synchrony
        ]

    def stack_requests(self) -> tuple[list[int], list[StackRequest]]:
        """The planned sightings that carry a client stack (tiers with stack churn on), and
        their records for the stack store."""
        at: list[int] = []
        out: list[StackRequest] = []
        for i, p in enumerate(self._planned):
            c, stack = p.policy.tuning, p.sighting.features.client_stack
            if c.stack_churn and stack:
                at.append(i)
                account = p.sighting.identity.account_id
                out.append(StackRequest(account, stack, c.stack_churn_recent, c.window))
        return at, out

    def synchrony_asks(self, states: Sequence[EntityState]) -> dict[int, SynchronyAsk]:
        """Per planned sighting whose account's own stream agrees (see :meth:`_synchronous`):
        the question for the co-activity store, at the sighting's time (so a batch answers
        as one by one: meetings after ``now`` are not counted)."""
        asks: dict[int, SynchronyAsk] = {}
        at = 0
        for i, (p, scored) in enumerate(zip(self._planned, self._senders, strict=True)):
            state = states[at + len(scored)]
            at += len(scored) + (1 if p.solitary else 2)
            if p.policy.tuning.synchrony and _stream_agrees(state, p.policy):
                s = p.sighting
                asks[i] = SynchronyAsk(s.identity.account_id, s.now, synchrony_policy(p.policy))
        return asks

    def score(
        self,
        states: Sequence[EntityState],
        synchronous: dict[int, int] | None = None,
        churn: dict[int, StackChurn] | None = None,
    ) -> list[Scored]:
        """Score every observed state in order (pure); ``synchronous``: per planned sighting
        asked (:meth:`synchrony_asks`), the account's synchronous partners; ``churn``: per
        planned sighting with a client stack, its account's stack churn."""
        scores: dict[str, ScoreState] = {}  # persisted earlier in this batch
        pins: dict[str, Pin] = {}  # written earlier in this batch
        out: list[Scored] = []
        found = iter(states)
        partners, churning = synchronous or {}, churn or {}
        for i, (p, scored) in enumerate(zip(self._planned, self._senders, strict=True)):
            s = p.sighting
            floor, floor_until = Level.NONE, 0.0
            for _, senders in scored:
                state = _latest(next(found), scores, pins)
                verdict = verdict_of(state, p.policy, s.now, cluster=True, accounts=senders)
                if verdict.dirty:
                    scores[state.entity] = verdict.state
                out.append(
                    Scored(p.index, state, verdict, p.policy, s.now, s.cluster_id, None, None, True)
                )
                cap = level_of(p.policy.tuning.template_max_level)
                passed = min(verdict.assessment.level, cap)
                if passed > floor and _passes_on(verdict, p.policy):
                    # a member sends again long after one level TTL (hydra members: hours
                    # apart): its floor lasts the detector window after its last such request
                    held = state.pin.until if state.pin else verdict.state.until
                    floor, floor_until = passed, max(held, s.now + p.policy.tuning.window)
            members: list[str | None] = [s.identity.account_id]
            if not p.solitary:
                members.append(None)
            for account_id in members:
                state = _latest(next(found), scores, pins)
                entity = state.entity
                cap, soft = Level.BLOCK, False
                if account_id is None and s.cluster_id in self._soft_only:
                    cap, soft = level_of(p.policy.soft_cluster_max), True
                verdict = verdict_of(
                    state, p.policy, s.now, cluster=account_id is None, max_level=cap, soft=soft
                )
                if verdict.dirty:
                    scores[entity] = verdict.state
                pin = self._verification(verdict, p.policy, account_id)
                if pin is not None:
                    pins[entity] = pin
                item = Scored(
                    p.index, state, verdict, p.policy, s.now, s.cluster_id, account_id, pin
                )
                a = verdict.assessment
                if (
                    account_id is not None
                    and floor > a.level
                    and not a.pinned
                    and member_agrees(state, p.policy)
                ):
                    item = _floored(item, floor, floor_until)
                elif account_id is not None and not a.pinned:
                    item = _synchronous(item, partners.get(i, 0), p.policy)
                    item = _churning(item, churning.get(i), state, p.policy)
                out.append(item)
        return out

    def _verification(
        self, verdict: Verdict, policy: DetectionPolicy, account_id: str | None
    ) -> Pin | None:
        a = verdict.assessment
        if (
            a.changed
            and policy.mode == "enforce"
            and policy.verification.enabled
            and a.level == Level.BLOCK
            and account_id is not None
        ):
            return Pin(
                Level.BLOCK, self._verification_until(), "detector", "verification_required", True
            )
        return None


def _latest(state: EntityState, scores: dict[str, ScoreState], pins: dict[str, Pin]) -> EntityState:
    """``state`` with the score and pin written earlier in the batch."""
    entity = state.entity
    if entity not in scores and entity not in pins:
        return state
    return replace(state, score=scores.get(entity, state.score), pin=pins.get(entity, state.pin))


def _passes_on(verdict: Verdict, policy: DetectionPolicy) -> bool:
    """A frame passes its level on only with a harvest-value signal and single-turn use:
    many accounts sharing one template and covering many topics is also a popular app."""
    found = {f.family: f.score for f in verdict.assessment.families}
    return found.get("elicitation", 0.0) >= policy.value_min and found.get("shape", 0.0) >= 0.5


def _stream_agrees(state: EntityState, policy: DetectionPolicy) -> bool:
    """The account's own stream is a squad member's: enough requests, single-turn, never-seen
    asks (CI suites repeat, classrooms follow up)."""
    c = policy.tuning
    return (
        state.requests >= c.cohort_member_requests
        and state.share("single") >= c.cohort_member_single
        and state.share("nov_exact") >= c.synchrony_member_novel
    )


def _synchronous(item: Scored, found: int, policy: DetectionPolicy) -> Scored:
    """``item`` floored at ``synchrony_level`` when the account meets ``found`` unlinked
    partners far above chance, enough of them, and its own stream agrees (asked only then)."""
    c = policy.tuning
    level = level_of(c.synchrony_level)
    if not c.synchrony or item.verdict.assessment.level >= level or found < c.synchrony_partners:
        return item
    reason = f"synchrony: meets {found} unlinked accounts far above chance"
    return _floored(item, level, item.now + c.window, reason)


def _churning(
    item: Scored, churn: StackChurn | None, state: EntityState, policy: DetectionPolicy
) -> Scored:
    """``item`` floored at ``stack_churn_level`` when the account's client stack keeps
    changing and its own stream agrees (single-turn, never-seen asks)."""
    c = policy.tuning
    level = level_of(c.stack_churn_level)
    if (
        churn is None
        or item.verdict.assessment.level >= level
        or not churn.churning(c.stack_churn_min, c.stack_churn_distinct)
        or not _stream_agrees(state, policy)
    ):
        return item
    reason = f"client stack churn: {churn.distinct} stacks in its last {churn.kept} requests"
    return _floored(item, level, item.now + c.window, reason)


def synchrony_policy(policy: DetectionPolicy) -> SynchronyPolicy:
    """The co-activity tracker's parameters of ``policy``."""
    c = policy.tuning
    return SynchronyPolicy(
        delta=c.synchrony_delta,
        local=c.synchrony_local,
        horizon=c.synchrony_horizon,
        min_meetings=c.synchrony_min_meetings,
        alpha=c.synchrony_alpha,
        partners=c.synchrony_partners,
    )


def _floored(item: Scored, floor: Level, until: float, reason: str = "") -> Scored:
    """An account's verdict raised to the level its frame (or its synchrony) passes on."""
    a = item.verdict.assessment
    reason = reason or f"frame or ask cohort level {floor.label} (sent by many accounts)"
    shown = replace(a, level=floor, reasons=(*a.reasons, reason))
    verdict = replace(item.verdict, assessment=shown)
    return replace(item, verdict=verdict, floor=floor, floor_until=until)


def verdict_of(
    state: EntityState,
    policy: DetectionPolicy,
    now: float,
    *,
    cluster: bool,
    accounts: int = 0,
    max_level: Level = Level.BLOCK,
    soft: bool = False,
) -> Verdict:
    """The scorer's verdict on ``state`` (pure); ``accounts``: a template entity's senders;
    ``soft``: a cluster linked by soft evidence only (its coordination is scored too)."""
    ctx = detectors.Context(
        min_requests=policy.min_requests,
        cluster=cluster,
        accounts=accounts,
        template_accounts=policy.tuning.template_accounts,
        half_life=policy.tuning.counter_half_life,
    )
    findings = detectors.assess(state, ctx)
    evidence = detectors.confidence(state, ctx)
    found = coordination(state, ctx, policy.coordination) if soft else None
    return score(
        state.entity, findings, state.score, state.pin, policy, now, evidence, max_level, found
    )
