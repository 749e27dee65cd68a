"""Prometheus metrics, on a registry owned by the app (no module globals).

``labels()`` validates and locks on every call: the per-request counters are reached
through :meth:`Metrics.request_counter`, which keeps the labelled children.

With ``serve --workers N`` every worker writes its values to files in a directory shared by
the workers of that ``serve`` (see :mod:`gateway.observability.multiproc`) and
:meth:`Metrics.render` merges all of them, so any worker's ``/metrics`` shows the instance.
Counters and histograms are summed. Gauges: ``gateway_requests_in_flight`` is ``livesum``
(the sum over running workers); ``gateway_store_available`` is ``livemostrecent`` (the value
last set by a running worker; the scraped worker pings the store just before rendering, so it
is the answer at scrape time, as in single-process mode, with the same labels).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from gateway.limiter.store import BudgetStore
from gateway.observability.multiproc import shared_dir

_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    120,
)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.shared_dir = shared_dir()
        self._exposed = self.registry
        if self.shared_dir is not None:  # the files of every worker, merged at each scrape
            self._exposed = CollectorRegistry()
            MultiProcessCollector(self._exposed, path=self.shared_dir)  # type: ignore[no-untyped-call]
        r = self.registry
        self.requests = Counter(
            "gateway_requests",
            "Requests by status and decision",
            ["status", "decision"],
            registry=r,
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "Total request latency by decision",
            ["decision"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_latency = Histogram(
            "gateway_upstream_duration_seconds",
            "Upstream latency (to first byte for streams)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.decide_latency = Histogram(
            "gateway_decide_duration_seconds",
            "Time spent deciding (auth to budgets)",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25),
            registry=r,
        )
        self.refusals = Counter(
            "gateway_refusals",
            "Refusals by budget scope and unit",
            ["scope", "unit", "reason"],
            registry=r,
        )
        self.shadow_refusals = Counter(
            "gateway_shadow_would_refuse",
            "Refusals computed in shadow mode (request passed)",
            ["budget"],
            registry=r,
        )
        self.store_errors = Counter("gateway_store_errors", "Budget store errors", registry=r)
        self.store_fallback = Counter(
            "gateway_store_fallback_decisions",
            "Decisions made by the per-process fallback limiter",
            registry=r,
        )
        self.store_available = Gauge(
            "gateway_store_available",
            "1 when the store answers",
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.store_breaker_open = Gauge(
            "gateway_store_breaker_open",
            "1 while the store's circuit breaker is open or probing (calls skip the store)",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.store_ping = Gauge(
            "gateway_store_ping_seconds",
            "Round trip of the store's ping, measured at each scrape",
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.policy_reload_errors = Counter(
            "gateway_policy_reload_errors", "Policy reloads rejected (last good kept)", registry=r
        )
        self.policy_reloads = Counter(
            "gateway_policy_reloads", "Policy reloads applied", registry=r
        )
        self.levels = Counter(
            "gateway_detection_level_changes",
            "Detection level changes",
            ["entity", "level"],
            registry=r,
        )
        self.challenges = Counter(
            "gateway_challenges", "Challenges by outcome", ["outcome"], registry=r
        )
        self.degraded = Counter(
            "gateway_degraded_requests", "Requests degraded before forwarding", registry=r
        )
        self.background_dropped = Counter(
            "gateway_background_dropped",
            "Off-path work dropped because a queue was full",
            ["queue"],
            registry=r,
        )
        self.sightings_appended = Counter(
            "gateway_sightings_appended",
            "Sightings appended to the stream the detect workers read",
            registry=r,
        )
        self.sightings_dropped = Counter(
            "gateway_sightings_dropped",
            "Sightings not appended (error: the store refused; backlog: too many unanswered)",
            ["reason"],
            registry=r,
        )
        self.in_flight = Gauge(
            "gateway_requests_in_flight",
            "Requests being served",
            registry=r,
            multiprocess_mode="livesum",
        )
        self._request_children: dict[tuple[int, str], Any] = {}
        self._latency_children: dict[str, Any] = {}

    def request_counter(self, status: int, decision: str) -> Any:
        """The ``gateway_requests`` child of (status, decision), looked up once."""
        key = (status, decision)
        child = self._request_children.get(key)
        if child is None:
            child = self.requests.labels(str(status), decision)
            self._request_children[key] = child
        return child

    def latency_for(self, decision: str) -> Any:
        """The ``gateway_request_duration_seconds`` child of ``decision``, looked up once."""
        child = self._latency_children.get(decision)
        if child is None:
            child = self._latency_children[decision] = self.latency.labels(decision)
        return child

    async def sample_store(self, store: BudgetStore) -> None:
        """Before a scrape: is the store up, and how long its ping takes."""
        started = time.perf_counter()
        up = await store.ping()
        self.store_ping.set(time.perf_counter() - started)
        self.store_available.set(1 if up else 0)

    def render(self) -> bytes:
        return generate_latest(self._exposed)
