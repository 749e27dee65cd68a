"""Observing many requests at once: the plan and the pure scoring of one batch.

The engine observes a batch with a fixed number of store round trips, whatever its size:
template fan-out of every request, then every account and cluster observation, then the
scores to persist (see :meth:`DetectionEngine.observe_many`). An entity's observations of a
batch go to the store as one call (:class:`EntityBatch`), applied in order with exactly the
effect of one by one; the entity is then scored once, on its state after the batch (a batch
of one sighting is scored exactly as before). Each observation carries its sighting's id, so
a batch applied twice (a worker died before acknowledging it) counts once.

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

from gateway.detection.chains import ChainRequest, Continued
from gateway.detection.coactivity import EpisodeRequest
from gateway.detection.cohort import cohort_key, member_agrees
from gateway.detection.config import DetectionPolicy, level_of
from gateway.detection.floors import Scored, churn_floor, floor_to, stream_agrees, synchrony_floor
from gateway.detection.newcomer_policy import Newcomers
from gateway.detection.observation import observation, own_elicitation
from gateway.detection.scorer import Verdict
from gateway.detection.stacks import StackChurn, StackRequest
from gateway.detection.state import EntityBatch, FanoutRequest, Seen
from gateway.detection.synchrony import SynchronyAsk, episode
from gateway.detection.types import (
    EntityState,
    Observation,
    Pin,
    entity_of_account,
    entity_of_cluster,
    entity_of_template,
)
from gateway.detection.verdicts import synchrony_policy, verdict_of
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
    id: str = ""  # stable across deliveries (the stream's "shard:entry id"); "": none
    # the ref its answer is stored under at the provider (gateway.fingerprints.chain); 0: none
    stored: int = 0


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
        self._runs: list[str] = []  # the entity of each store call of ``observations``
        self._chained: list[int] = []  # the planned sightings of ``chain_requests``
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

    def chain_requests(self) -> list[ChainRequest]:
        """The planned sightings that continue or create stored state (the Responses API's
        ``previous_response_id`` or ``conversation``, :mod:`gateway.detection.chains`), in
        order; their inherited asks go to :meth:`observations`."""
        self._chained = [
            i
            for i, p in enumerate(self._planned)
            if p.sighting.features.parent or p.sighting.stored
        ]
        return [
            ChainRequest(
                p.sighting.identity.account_id,
                p.sighting.features.parent,
                p.sighting.stored,
                own_elicitation(p.sighting.fingerprint, p.sighting.features, p.policy),
                p.sighting.now,
                p.policy.tuning.window,
            )
            for p in (self._planned[i] for i in self._chained)
        ]

    def observations(
        self, counts: Sequence[int], inherited: Sequence[Continued] = ()
    ) -> list[EntityBatch]:
        """Per sighting: its frame (when sent by enough accounts), the account and (in a
        cluster) the cluster observations, given the fan-out counts and the asks inherited
        by the sightings of :meth:`chain_requests`; grouped per entity, in order (one store
        call per entity, unless its sightings straddle a window epoch)."""
        asks = dict(zip(self._chained, inherited, strict=True)) if inherited else {}
        self._senders = []
        # per store call: entity, window, half-life, epoch, and its observations
        runs: list[tuple[str, float, float, int, list[Seen]]] = []
        last_run: dict[str, int] = {}  # entity -> its latest run in ``runs``
        found = iter(counts)

        def add(entity: str, obs: Observation, p: _Planned) -> None:
            tuning, s = p.policy.tuning, p.sighting
            window, half_life = tuning.window, tuning.counter_half_life
            epoch = int(s.now // window)
            at = last_run.get(entity)
            if at is None or runs[at][1:4] != (window, half_life, epoch):
                last_run[entity], at = len(runs), len(runs)
                runs.append((entity, window, half_life, epoch, []))
            runs[at][4].append(Seen(obs, s.now, s.id))

        for j, p in enumerate(self._planned):
            s, policy = p.sighting, p.policy
            counted = [(key, next(found)) for key in p.keys]
            fanout = bool(p.frame) and counted[0][1] >= policy.tuning.template_fanout
            account = s.identity.account_id
            obs = observation(
                s.fingerprint,
                s.features,
                policy,
                s.now,
                fanout=fanout,
                limited=s.limited,
                inherited=asks[j].ask if j in asks else 0.0,
                continues=j in asks and asks[j].follow_up(s.features.parent),
            )
            scored = tuple((k, n) for k, n in counted if n >= policy.tuning.template_accounts)
            self._senders.append(scored)
            member = replace(obs, member=account)
            for key, _ in scored:
                add(entity_of_template(key), member, p)
            add(entity_of_account(account), obs, p)
            if not p.solitary:
                add(entity_of_cluster(s.cluster_id), member, p)
        self._runs = [run[0] for run in runs]
        return [EntityBatch(e, tuple(seen), w, h) for e, w, h, _, seen in runs]

    def episodes(self) -> list[EpisodeRequest]:
        """Every observed sighting of a tier with synchrony on, in order: the co-activity
        store's records (see :mod:`gateway.detection.coactivity`; recording a sighting again,
        a worker's retry, starts no episode: it is no later than the account's last)."""
        return [
            episode(p.sighting.identity.account_id, p.sighting.now, synchrony_policy(p.policy))
            for p in self._planned
            if p.policy.tuning.synchrony
        ]

    def stack_requests(self) -> list[StackRequest]:
        """Every observed sighting that carries a client stack (tiers with stack churn on), in
        order: the stack store's records (see :mod:`gateway.detection.stacks`)."""
        out: list[StackRequest] = []
        for p in self._planned:
            c, stack = p.policy.tuning, p.sighting.features.client_stack
            if c.stack_churn and stack:
                account = p.sighting.identity.account_id
                out.append(StackRequest(account, stack, c.stack_churn_recent, c.window))
        return out

    def last_sightings(
        self, states: Sequence[EntityState]
    ) -> dict[str, tuple[float, int | None, str | None, EntityState, Newcomers, int]]:
        """Per observed account, for newcomer cohorts: its last sighting's time, ``max_tokens``
        and tier, its state after the batch, its tier's ``newcomers`` section, its ask (the
        exact-prompt hash)."""
        final = dict(zip(self._runs, states, strict=True))
        out: dict[str, tuple[float, int | None, str | None, EntityState, Newcomers, int]] = {}
        for p in self._planned:
            s = p.sighting
            state = final.get(entity_of_account(s.identity.account_id))
            if state is not None:
                section = p.policy.newcomers
                out[s.identity.account_id] = (
                    s.now,
                    s.features.max_tokens,
                    s.identity.tier,
                    state,
                    section,
                    s.fingerprint.exact,
                )
        return out

    def synchrony_asks(self, states: Sequence[EntityState]) -> dict[str, SynchronyAsk]:
        """Per account whose own stream agrees after the batch (see :func:`stream_agrees`):
        the question for the co-activity store, at the time of its last sighting."""
        final = dict(zip(self._runs, states, strict=True))
        asks: dict[str, SynchronyAsk] = {}
        for p in self._planned:
            s, account = p.sighting, p.sighting.identity.account_id
            state = final.get(entity_of_account(account))
            if p.policy.tuning.synchrony and state and stream_agrees(state, p.policy):
                asks[account] = SynchronyAsk(account, s.now, synchrony_policy(p.policy))
            else:
                asks.pop(account, None)
        return asks

    def score(
        self,
        states: Sequence[EntityState],
        synchronous: dict[str, int] | None = None,
        churn: dict[str, StackChurn] | None = None,
    ) -> list[Scored]:
        """Score every observed entity once, on its state after the batch, with the policy
        and time of its last sighting in the batch (pure): templates first (their levels
        pass on to the accounts that sent them), then accounts and clusters.
        ``synchronous``: per account asked (:meth:`synchrony_asks`), its synchronous
        partners; ``churn``: per account with a client stack, its churn after the batch."""
        final = dict(zip(self._runs, states, strict=True))
        last: dict[str, tuple[_Planned, int]] = {}  # entity -> last sighting, its senders
        floors: dict[str, list[tuple[_Planned, str]]] = {}  # account -> (sighting, template)
        for p, scored in zip(self._planned, self._senders, strict=True):
            s = p.sighting
            account = entity_of_account(s.identity.account_id)
            for key, senders in scored:
                last[entity_of_template(key)] = (p, senders)
                floors.setdefault(account, []).append((p, entity_of_template(key)))
            last[account] = (p, 0)
            if not p.solitary:
                last[entity_of_cluster(s.cluster_id)] = (p, 0)
        out: list[Scored] = []
        templates: dict[str, Verdict] = {}
        for entity, (p, senders) in last.items():
            if entity.startswith("t:"):
                state, s = final[entity], p.sighting
                verdict = verdict_of(state, p.policy, s.now, cluster=True, accounts=senders)
                templates[entity] = verdict
                out.append(
                    Scored(p.index, state, verdict, p.policy, s.now, s.cluster_id, None, None, True)
                )
        for entity, (p, _) in last.items():
            if entity.startswith("t:"):
                continue
            account_id = p.sighting.identity.account_id if entity.startswith("a:") else None
            floor = _floor(floors.get(entity, ()), templates, final)
            item = self._scored(p, final[entity], account_id, floor)
            if account_id is not None and not item.verdict.assessment.pinned and not item.floor:
                item = synchrony_floor(item, (synchronous or {}).get(account_id, 0), p.policy)
                item = churn_floor(item, (churn or {}).get(account_id), final[entity], p.policy)
            out.append(item)
        return out

    def _scored(
        self,
        p: _Planned,
        state: EntityState,
        account_id: str | None,
        floor: tuple[Level, float],
    ) -> Scored:
        """The verdict on an account (``account_id``) or a cluster (None): its own, raised
        to its frames' ``floor`` (or its synchrony's) when its own stream agrees."""
        s = p.sighting
        cap, soft = Level.BLOCK, False
        if account_id is None and s.cluster_id in self._soft_only:
            cap, soft = level_of(p.policy.soft_cluster_max), True
        verdict = verdict_of(
            state, p.policy, s.now, cluster=account_id is None, max_level=cap, soft=soft
        )
        pin = self._verification(verdict, p.policy, account_id)
        item = Scored(p.index, state, verdict, p.policy, s.now, s.cluster_id, account_id, pin)
        a = verdict.assessment
        if account_id is None or a.pinned:
            return item
        if floor[0] > a.level and member_agrees(state, p.policy):
            return floor_to(item, *floor)
        return item

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


def _floor(
    sent: Sequence[tuple[_Planned, str]],
    templates: dict[str, Verdict],
    final: dict[str, EntityState],
) -> tuple[Level, float]:
    """The level an account's frames and ask cohorts of the batch pass on to it, and until
    when: per sighting, its highest frame or cohort level, for the detector window after
    the sighting (a member sends again long after one level TTL: hydra members, hours
    apart); over the batch, the highest of these, until the latest."""
    best, best_until = Level.NONE, 0.0
    floor, until, index = Level.NONE, 0.0, -1
    for p, entity in [*sent, (None, "")]:
        if p is None or p.index != index:  # the previous sighting's floor is complete
            if floor > best or (floor == best and until > best_until):
                best, best_until = floor, until
            if p is None:
                break
            floor, until, index = Level.NONE, 0.0, p.index
        verdict = templates[entity]
        passed = min(verdict.assessment.level, level_of(p.policy.tuning.template_max_level))
        state = final[entity]
        if passed > floor and _passes_on(verdict, state, p.policy):
            held = state.pin.until if state.pin else verdict.state.until
            floor, until = passed, max(held, p.sighting.now + p.policy.tuning.window)
    return best, best_until


def _passes_on(verdict: Verdict, state: EntityState, policy: DetectionPolicy) -> bool:
    """A frame passes its level on only with a harvest-value signal and single-turn use (many
    accounts sharing one template and covering many topics is also a popular app), and while
    its senders' union keeps growing (``cohort_union_novel``): hydra members take disjoint
    slices of a task pool, so the never-seen share of all their requests stays near 1; a
    class whose members all run the same task set (a workshop, a course's problem set)
    brings it down to about one over its size."""
    found = {f.family: f.score for f in verdict.assessment.families}
    return (
        found.get("elicitation", 0.0) >= policy.value_min
        and found.get("shape", 0.0) >= 0.5
        and state.share("nov_exact") >= policy.tuning.cohort_union_novel
    )
