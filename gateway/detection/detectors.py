"""Detector families: pure functions of an entity's state -> :class:`Finding`.

Every score needs evidence: below ``min_requests`` it is 0. Family scores say how strongly
the behaviour is present; how much evidence backs them is :func:`confidence`, applied once
to the combined risk by the scorer (families of one campaign are correlated: scaling each
and combining would over-count thin evidence). Reasons are for operators (audit, admin API)
and are never sent to clients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gateway.detection.types import PRINT_BITS, SYSTEM_BITS, EntityState, Finding

DIURNAL_SPAN = 20 * 3600.0  # an entity must be this old before "no diurnal pause" counts
# Mean elicitation-lexicon score: about 4 % of human prompts carry CoT wording (mean about
# 0.03 on the tuning files); an entity at twice that or more starts to count.
LEXICON_LOW, LEXICON_HIGH = 0.05, 0.35
LEXICON_PRIOR = 0.03
# A system prompt sent with (nearly) every request is a product's template: its CoT wording is
# the app's style. Wording in a system prompt that comes and goes (an ask moved between the
# system prompt and the user turn) counts: system-prompt share at the low end, not at the high.
SYSTEM_FIXED = (0.6, 0.95)
# A system prompt sent with every request that changes from request to request (a reasoning
# request moved into a ``developer`` message, one wording or another per task) is the
# requester's own words, not one app's template: it counts from the low end of this variety
# of its hash bits (0: one prompt, 1: every bit set on half the requests) to the high end.
# Four wordings drawn at random give about 0.6 (0.25 to 0.9 by their hashes); an app with a
# main prompt on 90 % of requests and another on the rest about 0.1. One account's only: a
# cluster or template entity mixes its members' apps (two companies' support desks under
# one operator alternate two prompts, each fixed).
SYSTEM_VARIETY = (0.2, 0.45)
# An account's own template counts as slot filling only in a mostly single-turn stream: a
# product's template that opens conversations its users continue (students asking back about
# an explained step) is the product's. 0 at half the requests follow-ups, full at 0.8
# single-turn (a sweep with an occasional follow-up still counts).
SLOT_FILLING_SINGLE = (0.5, 0.8)
# Value carried by structure (gateway.fingerprints.value): the share of requests asking for
# a trace through a schema, sending worked answers before a new ask, asking for reasoning
# effort or resampling with seeds, from which it starts to count and where it counts in full.
STRUCTURE_SHARE = (0.2, 0.6)
# A schema or exemplar set sent with every request is a product's (a document extractor's
# "reasoning" field, a maths app's fixed exemplars); it counts only as far as it changes from
# request to request: variety 0 (one print) to 1 (every print bit set on half the requests).
STRUCTURE_VARIETY = (0.3, 0.7)
# Asks for the other products of distillation (gateway.fingerprints.product_terms: new items
# with solutions, soft labels in words, programs, corrections) are what honest products ask
# too (a worksheet builder, a ticket router, an IDE plugin, a "check my work" button); they
# count only in the entity's own sweep. Measured on the tuning split (red round 6, --trace,
# accounts at 40 / 100 / 300 requests): the four sweeps' mean product score is 0.25-0.64,
# their single-turn share 1.00 and never-seen share 0.96-1.00; the look-alikes' mean score
# 0.05-0.23 (worksheet builder, "check my work") or under 0.06 (IDE plugin, ticket router:
# its wording is in the system prompt), single-turn 0.42-0.89 (follow-ups, "continue"),
# never-seen 0.35-0.97. The topic sweep ratio does not separate them (0.29-0.66 against
# 0.31-0.98 on these task pools) and is left out. Mean score: counts from PRODUCT_MEAN's low
# end, in full at its high end; single-turn and never-seen shares: the gate's ramps.
PRODUCT_MEAN = (0.1, 0.3)
PRODUCT_SINGLE = (0.93, 0.99)
PRODUCT_FRESH = (0.85, 0.95)
# Sustained volume of one account: requests in the decayed counter (half-life
# tuning.counter_half_life) spread over several hours of the day: beyond one person typing,
# and not one batch burst (an evaluation run, a nightly job: one or two hours).
SUSTAINED_REQUESTS = (150.0, 300.0)
SUSTAINED_HOURS = (2, 6)
# Conversations taken over (``adopt``: a multi-turn request whose first ask the account never
# sent) count as the account's own new asks for shape only when they are nearly all of its
# multi-turn requests: from this share of them to full. A relay member's are all (1.0); an
# app that sometimes sends a conversation begun elsewhere (another model, another client)
# mostly follows up its own. Measured (tuning split, round 18): counted in full, the kit's
# tutoring apps (25 % follow-ups, some whose first turn the simulation never sends) crossed
# shape 0.5 on 2 of 15 accounts and were throttled.
TAKEN_OVER = (0.5, 0.8)


@dataclass(frozen=True, slots=True)
class Context:
    """What the families need besides the state."""

    min_requests: int = 30
    cluster: bool = False  # the entity is a cluster or a template (synchrony applies)
    accounts: int = 0  # a template entity: distinct accounts sending it (0: not a template)
    template_accounts: int = 20  # accounts at which a template entity starts to count
    half_life: float = 6 * 3600.0  # of the decayed counters (tuning.counter_half_life)


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at ``lo`` or below, 1 at ``hi`` or above, linear in between."""
    if hi <= lo:
        return 1.0 if x >= hi else 0.0
    return max(0.0, min(1.0, (x - lo) / (hi - lo)))


def noisy_or(scores: list[float]) -> float:
    """1 - prod(1 - s): any strong signal dominates, several weak ones add up."""
    rest = 1.0
    for s in scores:
        rest *= 1.0 - max(0.0, min(1.0, s))
    return 1.0 - rest


def confidence(state: EntityState, ctx: Context) -> float:
    """0 below min_requests, then growing linearly to 1 at three times min_requests."""
    if state.requests < ctx.min_requests:
        return 0.0
    return min(1.0, state.requests / (3.0 * ctx.min_requests))


def gate(state: EntityState, ctx: Context) -> float:
    """1 once the entity has min_requests, else 0."""
    return 1.0 if state.requests >= ctx.min_requests else 0.0


def entropy(histogram: tuple[int, ...]) -> float:
    """Normalised Shannon entropy of the topic histogram (0 = one topic, 1 = uniform)."""
    total = sum(histogram)
    if total <= 1:
        return 0.0
    h = -sum((c / total) * math.log(c / total) for c in histogram if c > 0)
    return h / math.log(min(total, len(histogram)))


def shrunk(state: EntityState, name: str, prior: float, weight: float) -> float:
    """A decayed share pulled toward ``prior`` by ``weight`` pseudo-requests: right after a
    long pause the decayed counters hold only a few recent requests, and one unusual prompt
    must not make the share jump."""
    req = state.counter("req")
    return (state.counter(name) + prior * weight) / (req + weight) if req + weight > 0 else 0.0


def _finding(family: str, conf: float, parts: list[tuple[float, str]]) -> Finding:
    score = conf * noisy_or([s for s, _ in parts])
    reasons = tuple(r for s, r in parts if s >= 0.25) if conf > 0 else ()
    return Finding(family=family, score=round(score, 6), reasons=reasons)


def sweep_ratio(histogram: tuple[int, ...]) -> float:
    """Distinct topics seen / distinct topics a uniform sweep of as many requests would see.

    About 1 for a sweep across the topic space (the novelty rate stays near-linear), small
    for callers who revisit a few topics (novelty flattens).
    """
    total = sum(histogram)
    if total == 0 or not histogram:
        return 0.0
    buckets = len(histogram)
    expected = buckets * (1.0 - math.exp(-total / buckets))
    distinct = sum(1 for c in histogram if c > 0)
    return min(1.0, distinct / expected)


def coverage(state: EntityState, ctx: Context) -> Finding:
    """Topic coverage that keeps growing (a sweep), a flat topic distribution, few repeats.

    Only new conversations count as topics (follow-ups are kept out of the histogram), and
    the family needs ``min_requests`` of them: a few first turns always look diverse."""
    topics = sum(state.histogram)
    enough = ramp(topics, ctx.min_requests / 2, ctx.min_requests)
    ratio = sweep_ratio(state.histogram)
    ent = entropy(state.histogram)
    fresh = state.share("nov_exact")
    repeats = 0.5 + 0.5 * ramp(fresh, 0.3, 0.8)  # re-sending the same prompts is not sweeping
    return _finding(
        "coverage",
        gate(state, ctx) * enough,
        [
            (repeats * ramp(ratio, 0.25, 0.6), f"topic sweep ratio {ratio:.2f}"),
            (repeats * 0.5 * ramp(ent, 0.8, 0.95), f"topic entropy {ent:.2f}"),
        ],
    )


def templating(state: EntityState, ctx: Context) -> Finding:
    """One skeleton with changing slots; frames sent by many accounts. A template entity is
    templated by construction: its score is how widely the frame is fanned out."""
    if ctx.accounts:
        n, lo = ctx.accounts, ctx.template_accounts
        breadth = ramp(n, lo, 2.5 * lo)
        return _finding("templating", gate(state, ctx), [(breadth, f"frame sent by {n} accounts")])
    tpl = state.share("tpl")
    fan = state.share("fan")
    single = state.share("single")
    filling = ramp(single, *SLOT_FILLING_SINGLE)
    return _finding(
        "templating",
        gate(state, ctx),
        [
            (
                filling * ramp(tpl, 0.25, 0.65),
                f"templated share {tpl:.2f} (same skeleton, new content), "
                f"single-turn share {single:.2f}",
            ),
            (0.85 * ramp(fan, 0.3, 0.8), f"fanned-out template share {fan:.2f}"),
        ],
    )


def machine(state: EntityState, ctx: Context) -> float:
    """How machine-like the entity's own arrivals are (0..1): regular inter-arrival times or
    activity around the clock, over at least a day. Regular arrivals inside one short burst a
    day (a nightly batch job, paused most of the day) do not count."""
    if state.last_seen - state.first_seen < DIURNAL_SPAN:
        return 0.0  # not a whole day yet: a nightly batch and a pipeline look alike
    regular = 0.0
    if state.iat_samples >= ctx.min_requests and state.iat_mean > 0:
        cv = math.sqrt(max(0.0, state.iat_var)) / state.iat_mean
        regular = 1.0 - ramp(cv, 0.2, 0.6)
    paused = ramp(state.active_hours, 4, 8)  # 0: active at most 4 of the last 24 hours
    return max(regular * paused, ramp(state.active_hours, 18, 23))


def structure_variety(state: EntityState) -> float:
    """How much the trace schemas / exemplar histories of an entity change (0..1): for each
    counted bit of their prints, how far its share is from constant (0 or 1), the least of
    the bits. One fixed structure: 0; a new one per request: about 1."""
    total = state.counter("trace") + state.counter("worked")
    if total <= 0:
        return 0.0
    least = 1.0
    for bit in range(PRINT_BITS):
        p = min(1.0, state.counter(f"vb{bit}") / total)
        least = min(least, 2.0 * min(p, 1.0 - p))
    return least


def system_variety(state: EntityState) -> float:
    """How much an entity's system prompt changes from request to request (0..1): for each
    counted bit of its hash, how far the bit's share of the requests with a system prompt
    is from constant (0 or 1), the mean over the bits. One app prompt: 0; a different
    prompt on every request: about 1."""
    total = state.counter("sys")
    if total <= 0:
        return 0.0
    spread = 0.0
    for bit in range(SYSTEM_BITS):
        p = min(1.0, state.counter(f"sb{bit}") / total)
        spread += 2.0 * min(p, 1.0 - p)
    return spread / SYSTEM_BITS


def structure_parts(state: EntityState) -> list[tuple[float, str]]:
    """The value signals of request structure (see STRUCTURE_SHARE, STRUCTURE_VARIETY)."""
    trace, worked = state.share("trace"), state.share("worked")
    variety = structure_variety(state)
    changing = ramp(variety, *STRUCTURE_VARIETY)
    reason, resample = state.share("reason"), state.share("resample")
    return [
        (
            changing * ramp(trace, *STRUCTURE_SHARE),
            f"trace-schema share {trace:.2f} (schema variety {variety:.2f})",
        ),
        (
            changing * ramp(worked, *STRUCTURE_SHARE),
            f"worked-answer history share {worked:.2f} (history variety {variety:.2f})",
        ),
        (ramp(reason, *STRUCTURE_SHARE), f"reasoning-effort share {reason:.2f}"),
        (ramp(resample, *STRUCTURE_SHARE), f"seeded resampling share {resample:.2f}"),
    ]


def product_part(state: EntityState, ctx: Context) -> tuple[float, str]:
    """Distillation-product asks, counted only in the entity's own sweep (see PRODUCT_MEAN)."""
    asks = shrunk(state, "prod", 0.0, ctx.min_requests / 2)
    single, fresh = state.share("single"), state.share("nov_exact")
    sweep = ramp(single, *PRODUCT_SINGLE) * ramp(fresh, *PRODUCT_FRESH)
    return (
        sweep * ramp(asks, *PRODUCT_MEAN),
        f"distillation-product asks mean {asks:.2f} (new items with solutions, soft labels, "
        f"programs, corrections) in a sweep: single-turn share {single:.2f}, never-seen "
        f"share {fresh:.2f}",
    )


def elicitation(state: EntityState, ctx: Context) -> Finding:
    """Value signals: CoT / rubric lexicon, logprobs and friends, maximum single-turn output,
    and request structure (:func:`structure_parts`: trace schemas and worked-answer histories
    that change per request, reasoning effort, seeded resampling).

    CoT wording in the system prompt counts on its own only when the system prompt comes and
    goes (see SYSTEM_FIXED) or, for one account, changes from request to request (see
    SYSTEM_VARIETY); an app sends its one template with every request.

    Maximum output counts only from a machine-like sender (see :func:`machine`): long
    summaries or reports from a nightly job are what maximum output is for."""
    elic = shrunk(state, "elic", LEXICON_PRIOR, ctx.min_requests / 2)
    with_system = state.share("sys")
    in_system = shrunk(state, "selic", 0.0, ctx.min_requests / 2)
    changes = 0.0 if ctx.cluster or ctx.accounts else system_variety(state)
    varying = max(1.0 - ramp(with_system, *SYSTEM_FIXED), ramp(changes, *SYSTEM_VARIETY))
    params = state.share("params")
    maxout = state.share("maxout")
    auto = machine(state, ctx)
    return _finding(
        "elicitation",
        gate(state, ctx),
        [
            (ramp(elic, LEXICON_LOW, LEXICON_HIGH), f"elicitation lexicon mean {elic:.2f}"),
            (
                varying * ramp(in_system, LEXICON_LOW, LEXICON_HIGH),
                f"system-prompt lexicon mean {in_system:.2f}, system prompt on "
                f"{with_system:.2f} of requests, variety {changes:.2f} (not a fixed app "
                "template)",
            ),
            (ramp(params, 0.05, 0.4), f"logprobs/logit_bias/n>1 share {params:.2f}"),
            (
                auto * ramp(maxout, 0.2, 0.7),
                f"single-turn maximum-output share {maxout:.2f} (machine-like {auto:.2f})",
            ),
            *structure_parts(state),
            product_part(state, ctx),
        ],
    )


def shape(state: EntityState, ctx: Context) -> Finding:
    """Conversation shape: single-turn requests only, never a follow-up of one's own. A
    request later in a conversation whose first ask the account never sent (a conversation
    taken over, ``adopt``) is no follow-up of its own: a relay squad's members each send
    one piece of conversations passed around (red round 7's ``relay_squad``); a support
    desk's agents do the same honestly, and shape alone never acts (two behavioural
    families and a value signal must agree)."""
    single = state.share("single")
    adopted = state.share("adopt")
    taken = adopted / (1.0 - single) if single < 1.0 else 0.0  # of its multi-turn requests
    own = min(1.0, single + adopted * ramp(taken, *TAKEN_OVER))
    return _finding(
        "shape",
        gate(state, ctx),
        [
            (
                ramp(own, 0.8, 0.99),
                f"single-turn share {single:.2f}, conversations taken over {adopted:.2f} "
                f"({taken:.2f} of the rest), no follow-ups of its own",
            )
        ],
    )


def timing(state: EntityState, ctx: Context) -> Finding:
    """Machine-regular arrivals, no diurnal pause, cluster synchrony, members at their limits;
    for one account, a sustained volume no person types (hundreds of recent requests while
    active most hours of the day), however human its gaps look."""
    parts: list[tuple[float, str]] = []
    if state.iat_samples >= ctx.min_requests and state.iat_mean > 0:
        cv = math.sqrt(max(0.0, state.iat_var)) / state.iat_mean
        parts.append((1.0 - ramp(cv, 0.2, 0.6), f"inter-arrival CV {cv:.2f}"))
    if state.last_seen - state.first_seen >= DIURNAL_SPAN:
        parts.append(
            (ramp(state.active_hours, 18, 23), f"active {state.active_hours} of the last 24 h")
        )
    if not ctx.cluster:
        volume = state.counter("req")
        sustained = ramp(state.active_hours, *SUSTAINED_HOURS) * ramp(volume, *SUSTAINED_REQUESTS)
        parts.append(
            (
                sustained,
                f"sustained volume: {volume:.0f} recent requests over {state.active_hours} h",
            )
        )
    if ctx.cluster:
        sync = state.share("sync")
        parts.append((ramp(sync, 0.15, 0.5), f"member synchrony share {sync:.2f}"))
    hug = state.share("hug")
    parts.append((ramp(hug, 0.2, 0.6), f"at-limit share {hug:.2f}"))
    fresh = state.share("fresh")
    parts.append((0.5 * ramp(fresh, 0.3, 0.8), f"newest-model share {fresh:.2f}"))
    return _finding("timing", gate(state, ctx), parts)


FAMILY_FUNCTIONS: tuple[Callable[[EntityState, Context], Finding], ...] = (
    coverage,
    templating,
    elicitation,
    shape,
    timing,
)
BEHAVIOURAL = ("coverage", "templating", "shape", "timing")
CONTENT = ("elicitation",)


def assess(state: EntityState, ctx: Context) -> tuple[Finding, ...]:
    """Every family's finding on ``state``."""
    return tuple(fn(state, ctx) for fn in FAMILY_FUNCTIONS)
