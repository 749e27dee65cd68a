"""Value types shared by the traffic generators, the runner and the metrics."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["benign", "harvest"]
DAY = 86_400.0
HOUR = 3_600.0


@dataclass(frozen=True, slots=True)
class Request:
    """One planned API call: the JSON body and whether it carries a harvest prompt."""

    body: Mapping[str, Any]
    harvest: bool = False  # a harvest task (counts toward what the attacker extracts)
    headers: Mapping[str, str] = field(default_factory=dict)  # client stack (User-Agent, SDK)
    path: str = "/v1/chat/completions"  # the endpoint (legacy /v1/completions takes "prompt")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the gateway answered, as a client sees it (plus the level the gateway applied)."""

    status: int
    error_type: str = ""  # 429: requests/tokens/diversity/concurrency/...
    error_code: str = ""  # 403: challenge_required / account_blocked / verification_required
    degraded: bool = False
    tokens: int = 0  # usage.total_tokens when served, else an estimate of what was asked
    level: int = 0  # the effective detection level (max of account and cluster) at send time
    retry_after: float = 0.0
    challenged: bool = False  # a challenge was answered (and, for benign clients, solved)
    soft_cluster_refused: bool = False  # a 429 of the budget of a soft-only cluster
    answer: str = ""  # the served answer's text (first choice), what a chat client keeps
    response_id: str = ""  # a served Responses API answer's id (what previous_response_id names)

    @property
    def served(self) -> bool:
        return self.status == 200

    @property
    def stopped(self) -> bool:
        """A detection refusal that a harvester does not get past (challenge or block)."""
        return self.status == 403


# A behaviour: yields (absolute time, request), receives the outcome of each request.
Behaviour = Generator[tuple[float, Request], Outcome, None]


@dataclass(frozen=True, slots=True)
class Account:
    """One simulated API account: who it is, what it does and what it is meant to be."""

    name: str
    scenario: str
    role: Role
    behaviour_seed: int
    client_ip: str
    attrs: Mapping[str, str] = field(default_factory=dict)
    tier: str = "pro"
    planned: int = 0  # harvest tasks it would extract with no defence (cost multiplier)


@dataclass(slots=True)
class Record:
    """Everything measured about one account during a run."""

    account: Account
    sent: int = 0
    served: int = 0
    harvest_served: int = 0
    tokens: int = 0
    affected_tokens: int = 0  # sent at >= throttle, degraded or refused by detection
    budget_429: int = 0
    max_level: int = 0
    served_before: dict[int, int] = field(default_factory=dict)  # level -> harvest/all served
    challenged: int = 0  # 403 challenge_required answers
    blocked: int = 0  # 403 account_blocked / verification_required answers
    degraded: int = 0
    cluster: str = ""  # the account's linked-account cluster at the end of the run
    cluster_size: int = 1
    reasons: tuple[str, ...] = ()  # detection reasons when the account was first acted upon
    soft_cluster_429: int = 0  # refusals by the budget of a cluster linked by soft evidence only
