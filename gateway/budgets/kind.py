"""What every budget kind (token bucket, window quota, concurrency, novelty) must say about
itself, in the manner of ``limits``' strategies: one object per kind, looked up by its
algorithm name in :data:`gateway.budgets.registry.KINDS`.

A kind owns its policy notation (which ``Budgets`` fields it reads and the templates it
makes of them), its part of the plan (what a request costs), its encoding for the scripts
(``acquire.lua`` and ``settle.lua`` have one marked section per kind, keyed by ``code``),
its quota headers and its refusal message, and its in-process steps: the memory store's
check, commit and settlement (``local_*``, the same arithmetic as its Lua section) and the
fail-open fallback's item, cost and seed (``fallback_*``, ``seen_now``). The stores in
``gateway.limiter`` iterate over kinds and never name one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from gateway.budgets.arithmetic import INF, Verdict, quantize, window_index
from gateway.budgets.sections import Budgets
from gateway.errors import GatewayError
from gateway.model import Algorithm, BudgetSpec, BudgetState, Charge

AddTemplate = Callable[..., None]
"""``add(kind_name, mode, **template_fields)``: append one template (see ``templates.expand``)."""

_PERIOD_NAMES = {
    1.0: "second",
    60.0: "minute",
    3600.0: "hour",
    86400.0: "day",
    7 * 86400.0: "week",
    30 * 86400.0: "month",
    365 * 86400.0: "year",
}


def period_label(seconds: float) -> str:
    """``86400`` -> ``day``; ``300`` -> ``5m``; used in budget names."""
    if seconds in _PERIOD_NAMES:
        return _PERIOD_NAMES[seconds]
    for size, suffix in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds % size == 0:
            return f"{int(seconds // size)}{suffix}"
    return f"{seconds:g}s"


def scaled(value: int, scale: float) -> int:
    """A limit times a cluster's growth factor, rounded up (at least 1)."""
    return value if scale == 1.0 else max(1, math.ceil(value * scale - 1e-9))


def number(value: float) -> str:
    """A number as people read it: ``5``, ``0.5``, ``1.333``."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


def token_cost(count: str, prompt: int, completion: int) -> int:
    """What a request reserves against a token budget counting ``count`` tokens."""
    if count == "input":
        return prompt
    if count == "output":
        return completion
    return prompt + completion


class Adjustment(NamedTuple):
    """One settle.lua row: move ``key`` by ``delta`` (bucket step in seconds per unit)."""

    key: str
    algorithm: int  # the kind's code: 0 bucket, 1 window, 3 novelty
    step: float
    delta: int
    cell: int = -1


class Refusal(NamedTuple):
    """What the refusal message of a kind may use (derived by ``gateway.http.refusals``)."""

    state: BudgetState
    whose: str  # "your account's", "your organisation's", "this model's shared"
    type: str  # the error type of the budget's unit and scope
    retry: float  # seconds (finite)
    headers: dict[str, str]  # Retry-After and retry-after-ms


Entries = dict[str, Any]
"""The memory store's state by budget key; each kind keeps its own type of entry there."""


class Moment(NamedTuple):
    """The request a memory-store step belongs to, and when it runs."""

    request_id: str
    now: float
    throttled: bool  # the request's level throttles its throttleable budgets by ``factor``
    factor: float


def state_of(spec: BudgetSpec, verdict: Verdict, novel: bool | None = None) -> BudgetState:
    """A budget state with durations rounded to microseconds, as Redis reports them."""
    retry = verdict.retry_after
    return BudgetState(
        budget=spec,
        allowed=verdict.allowed,
        remaining=verdict.remaining,
        reset_after=quantize(max(verdict.reset_after, 0.0)),
        retry_after=INF if retry == INF else quantize(max(retry, 0.0)),
        novel=novel,
    )


class BudgetKind:
    """Defaults shared by the kinds; each kind overrides what differs."""

    algorithm: Algorithm
    code: int  # the kind's section in acquire.lua / settle.lua
    advertised = False  # shown in RateLimit / x-ratelimit headers (requests, tokens units)
    per_prompt = False  # a charge needs the request's prompt (its semantic cell)
    holds_slots = False  # a charge holds a slot until the request settles (released, not settled)
    seeded = True  # the fail-open fallback starts it from what Redis last said
    starts_empty = False  # ... and from empty when Redis never said anything about it

    def templates(
        self, budgets: Budgets, add: AddTemplate, *, source: str, scale: float, lease_ttl: float
    ) -> None:
        """Add the templates of this kind that a policy section defines."""
        raise NotImplementedError

    # --- plan -------------------------------------------------------------------------
    def fixed_charge(self, spec: BudgetSpec) -> Charge | None:
        """The charge of every request, or None when it depends on the request."""
        return None if spec.unit == "tokens" else Charge(spec, 1)

    def charge(
        self, spec: BudgetSpec, prompt_tokens: int, completion: int, cell: int | None
    ) -> Charge | None:
        """A request's charge when it is not fixed (None: the budget does not apply)."""
        return Charge(spec, token_cost(spec.count, prompt_tokens, completion))

    # --- scripts ------------------------------------------------------------------------
    def static_args(self, spec: BudgetSpec) -> str:
        """``"code,limit,window,interval,"``: the budget's part of acquire.lua's ARGV that
        never changes (cached per spec by the codec)."""
        code = self.code + (4 if spec.mode == "shadow" else 0) + (8 if spec.throttleable else 0)
        return f"{code},{spec.limit},{float(spec.window)!r},{self.interval(spec)!r},"

    def interval(self, spec: BudgetSpec) -> float:
        return 0.0

    def charge_args(self, static: str, charge: Charge) -> str:
        """The whole ARGV part of one charge: the static part, then cost and cell."""
        return f"{static}{charge.cost},-1"

    def settle_row(self, spec: BudgetSpec, delta: int) -> Adjustment | None:
        """The settle.lua row that moves a token reservation to the real usage."""
        return None

    def undo_row(
        self, charge: Charge, state: BudgetState, throttled: bool, factor: float
    ) -> Adjustment | None:
        """The settle.lua row that takes a committed charge back (None: release a slot)."""
        return None

    def check(self, spec: BudgetSpec) -> None:
        """Raise ValueError for a spec no store can evaluate (a programming error)."""
        return None

    # --- the memory store ------------------------------------------------------------------
    def local_check(self, entries: Entries, charge: Charge, at: Moment) -> tuple[BudgetState, Any]:
        """The charge's state, and what :meth:`local_commit` stores if the request is
        admitted."""
        raise NotImplementedError

    def local_commit(self, entries: Entries, charge: Charge, at: Moment, pending: Any) -> float:
        """Store an admitted charge; return when its key expires."""
        raise NotImplementedError

    def local_settle(self, entries: Entries, spec: BudgetSpec, delta: int, now: float) -> float:
        """Move a token reservation by ``delta``; return the key's new expiry (-1: untouched)."""
        return -1.0

    def local_release(self, entries: Entries, spec: BudgetSpec, request_id: str) -> None:
        """Give back the request's slot (kinds that hold slots)."""
        return None

    # --- the fail-open fallback -------------------------------------------------------------
    def fallback_seconds(self, spec: BudgetSpec, amount: int, replicas: int) -> float:
        """The period of the ``limits`` item holding one replica's ``amount`` of ``spec``."""
        return spec.window

    def fallback_cost(self, charge: Charge, throttled: bool, factor: float) -> int:
        """What a charge counts in the fallback (``throttled`` as in :meth:`local_check`)."""
        return charge.cost

    def seed_expiry(
        self, spec: BudgetSpec, period: float, used: int, amount: int, now: float
    ) -> float:
        """How long a seeded ``used`` part of a fallback item stays spent: until the window
        Redis counts in ends."""
        return spec.window - now % spec.window

    def seen_now(self, spec: BudgetSpec, remaining: int, at: float, now: float) -> float | None:
        """Units ``spec`` holds now, fleet-wide, when Redis said ``remaining`` at ``at``
        (None: not seeded). A window budget is full again once its window has ended."""
        if window_index(now, spec.window) != window_index(at, spec.window):
            return float(spec.limit)
        return float(remaining)

    # --- headers, refusal, explain --------------------------------------------------------
    def header_window(self, spec: BudgetSpec) -> int:
        """The ``w`` of a ``RateLimit-Policy`` item: seconds for the budget to become full."""
        return max(1, round(spec.window))

    def refusal(self, refused: Refusal) -> GatewayError:
        raise NotImplementedError

    def numbers(self, limit: int, rate: float, window: float) -> tuple[str, str, str]:
        """(limit, refill, window) as ``gateway policy explain`` prints them."""
        return str(limit), "", period_label(window)
