"""Value types that flow through the request pipeline.

Every stage reads and returns these frozen values; nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["account", "cluster", "model", "route", "global"]
Unit = Literal["requests", "tokens", "diversity", "concurrency"]
Algorithm = Literal["bucket", "window", "concurrency", "novelty"]
Mode = Literal["enforce", "shadow"]
TokenCount = Literal["total", "input", "output"]
FailureMode = Literal["open", "closed"]  # when the budget store is unreachable


class Level(enum.IntEnum):
    """Graduated response levels, in order of severity. Each level implies the lower ones."""

    NONE = 0
    THROTTLE = 1
    DEGRADE = 2
    CHALLENGE = 3
    BLOCK = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: the output of the authenticate stage."""

    account_id: str
    tier: str | None
    attrs: Mapping[str, str] = field(default_factory=dict)
    client_ip: str = ""
    method: str = "api_key"  # the gateway.auth method that admitted the caller: api_key, jwt


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    """One concrete budget that applies to one request.

    * ``bucket``: token bucket (GCRA). ``limit`` is the burst; ``rate`` units refill every
      ``window`` seconds.
    * ``window``: fixed window quota. ``limit`` units per ``window`` seconds (``rate`` unused).
    * ``concurrency``: at most ``limit`` in flight; ``window`` is the lease TTL in seconds
      after which a slot of a crashed replica expires.
    * ``novelty``: diversity budget: ``limit`` units per ``window`` seconds; a request touching
      a semantic cell not seen in the window costs 1 unit, a repeat costs ``repeat_cost``.
    """

    name: str  # stable, human-readable: "account:requests", "cluster:quota:requests:day"
    scope: Scope
    unit: Unit
    algorithm: Algorithm
    key: str  # store key, built by gateway.redis.keys
    limit: int
    window: float
    rate: float = 0.0
    mode: Mode = "enforce"
    throttleable: bool = True  # detection's throttle level scales this budget's refill
    repeat_cost: float = 0.0  # novelty only
    header: bool = True  # advertised in RateLimit / x-ratelimit headers
    count: TokenCount = "total"  # token budgets: which tokens count (prompt+completion, ...)


@dataclass(frozen=True, slots=True)
class Charge:
    """What one request asks of one budget."""

    budget: BudgetSpec
    cost: int = 1  # requests: 1; tokens: the reservation; concurrency: 1
    cell: int | None = None  # novelty budgets: the request's semantic cell


@dataclass(frozen=True, slots=True)
class AcquireRequest:
    """All of one request's budgets, checked and consumed atomically (all or nothing)."""

    request_id: str  # the gateway's own id (concurrency lease id); never a client's
    charges: tuple[Charge, ...]
    level_keys: tuple[str, ...] = ()  # detection level keys (account, cluster): max is applied
    clearance_keys: tuple[str, ...] = ()  # a challenge solved recently clears these
    throttle_factor: float = 1.0  # refill multiplier when level >= THROTTLE


@dataclass(frozen=True, slots=True)
class BudgetState:
    """A budget's state after the check (and the consumption, when admitted)."""

    budget: BudgetSpec
    allowed: bool
    remaining: int
    reset_after: float  # seconds until the budget is full again (window: until it resets)
    retry_after: float  # seconds until this request would be admitted; 0 when allowed
    novel: bool | None = None  # novelty budgets: was the cell new in this window


@dataclass(frozen=True, slots=True)
class AcquireResult:
    allowed: bool  # every enforced budget admitted and the level does not refuse
    states: tuple[BudgetState, ...]
    level: Level = Level.NONE
    cleared: bool = False  # a valid challenge clearance is on file
    fallback: bool = False  # answered by the per-process fallback limiter (store unreachable)


@dataclass(frozen=True, slots=True)
class Settlement:
    """After the response: charge or refund the difference, release concurrency slots."""

    request_id: str
    adjustments: tuple[tuple[BudgetSpec, int], ...] = ()  # (token budget, actual - reserved)
    releases: tuple[BudgetSpec, ...] = ()  # concurrency budgets to release


@dataclass(frozen=True, slots=True)
class RequestFeatures:
    """Non-text properties of an inference request, read from its JSON body."""

    endpoint: str  # "chat", "completions", "embeddings", "other"
    model: str
    stream: bool = False
    include_usage: bool = False  # the client asked for stream_options.include_usage
    max_tokens: int | None = None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int | None = None
    logit_bias: bool = False
    turns: int = 1  # user turns in the conversation
    retry_count: int = 0  # x-stainless-retry-count
    client_stack: int = 0  # hash of the client software: User-Agent product, SDK, version
    # value carried by structure (gateway.fingerprints.value): a schema asking for a trace,
    # worked answers in the history before a new ask, reasoning effort, resampling
    trace_schema: int = 0  # print (16 bits, never 0) of a trace-asking schema; 0: none
    worked_history: int = 0  # print (16 bits, never 0) of a worked-answer history; 0: none
    reasoning: bool = False  # reasoning_effort / reasoning / thinking asking for effort
    resample: bool = False  # best_of > 1, or a seed with a sampling temperature
    # a continuation ("continue" after a cut answer: gateway.fingerprints.continuation): the
    # answer pieces it continues (0: none); it is the ask it continues, not a new turn
    continued: int = 0
    # pleasantry exchanges ("hi" / "Of course! What would you like help with?") before the
    # first real ask (gateway.fingerprints.opener): not turns of the conversation
    opened: int = 0
    # the model's reasoning asked back with the answer (gateway.fingerprints.value
    # .returns_trace): a reasoning summary, thinking blocks
    trace_asked: bool = False
    # the stored state the request continues (the Responses API's previous_response_id or
    # conversation: gateway.fingerprints.chain): its ref, 0: none
    parent: int = 0


@dataclass(frozen=True, slots=True)
class BudgetPrint:
    """The request path's part of a prompt's fingerprint: what the budgets charge. The rest
    (:class:`Fingerprint`) is computed after the response, for detection and linking."""

    est_tokens: int  # estimated prompt tokens of the whole request
    cell: int | None = None  # the novelty cell (None: no novelty budget needs it)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Cheap, pure prompt fingerprints (see gateway.fingerprints.fingerprint)."""

    exact: int  # 64-bit hash of the normalised last user turn
    skeleton: int  # 64-bit hash of the skeleton (literals masked)
    simhash: int  # 64-bit SimHash of the skeleton's word 1-2-grams
    bands: tuple[int, int, int, int]  # four 16-bit bands of simhash
    cell: int  # coarse semantic cell (random-hyperplane LSH), 0 <= cell < 2**cell_bits
    system: int  # 64-bit hash of the system prompt (0 when none)
    words: int
    est_tokens: int  # estimated prompt tokens of the whole request
    elicitation: float  # 0..1: chain-of-thought / rubric-grading wording of the user turn
    elicitation_terms: tuple[str, ...] = ()  # of the user turn and the system prompt
    frame: int = 0  # 64-bit hash of the template around the body (0: no frame found)
    system_elicitation: float = 0.0  # 0..1: the same wording in the system prompt
    product: float = 0.0  # 0..1: distillation-product asks of the user turn (product lexicon)
    # a request later in a conversation: the exact hash and the cell of the conversation's
    # first real ask (its identity; 0, 0: the request is that ask, or it has pictures)
    thread: int = 0
    thread_cell: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of the decide stage; headers and error bodies derive from it only."""

    action: Literal["allow", "refuse", "challenge", "verify", "block", "unavailable"]
    states: tuple[BudgetState, ...] = ()
    refused_by: BudgetState | None = None
    level: Level = Level.NONE
    reason: str = ""  # operator-facing explanation (logs, explain); never sent to clients
    shadow_refusals: tuple[str, ...] = ()  # budgets that would have refused, in shadow
    degraded: bool = False
    fallback: bool = False  # decided by the per-process fallback limiter (store unreachable)
    policy_version: str = ""

    @property
    def allowed(self) -> bool:
        return self.action == "allow"
