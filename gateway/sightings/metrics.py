"""The metrics of the workers that apply sightings (``gateway detect``, or the in-process
worker of the memory store), on the process's registry. Fixed names: the dashboards and the
benchmarks read them.

* ``gateway_detect_sightings_total``: sightings applied (by this process)
* ``gateway_detect_batches_total``: batches applied
* ``gateway_detect_claimed_total``: entries claimed from a consumer that went quiet
* ``gateway_detect_lag_seconds``: request time -> applied (histogram)
* ``gateway_detect_stream_length{shard}``: entries in the shard's stream (read or not)
* ``gateway_detect_trimmed_total{shard}``: entries trimmed before any worker read them, a
  running total per shard read off Redis (every worker reports the same value: take the
  ``max by (shard)``, not the sum)
* ``gateway_detect_lost_total``: pending entries trimmed before a worker claimed them
* ``gateway_detect_expired_total``: claimed entries too old to apply safely (their ids may be
  forgotten: see :mod:`gateway.sightings.worker`), acknowledged unapplied
* ``gateway_detect_failed_total``: sightings whose batch failed (left pending, claimed again)
* ``gateway_detect_undecodable_total``: entries no codec version here reads (acknowledged)
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# 2 s: the lag goal of the deployment guide, so that a p99 is judged against it exactly
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60, 300)


class DetectMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = r = registry
        self.sightings = Counter("gateway_detect_sightings", "Sightings applied", registry=r)
        self.batches = Counter("gateway_detect_batches", "Batches of sightings applied", registry=r)
        self.batch_size = Histogram(
            "gateway_detect_batch_sightings",
            "Sightings per applied batch (small batches cost more per sighting)",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.claimed = Counter(
            "gateway_detect_claimed", "Pending sightings claimed from a quiet consumer", registry=r
        )
        self.lag = Histogram(
            "gateway_detect_lag_seconds",
            "Seconds from the request to its applied sighting",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.stream_length = Gauge(
            "gateway_detect_stream_length",
            "Entries in a shard of the sighting stream",
            ["shard"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.trimmed = Gauge(
            "gateway_detect_trimmed_total",
            "Sightings trimmed from a shard before any worker read them (running total)",
            ["shard"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.lost = Counter(
            "gateway_detect_lost",
            "Pending sightings trimmed before a worker claimed them",
            registry=r,
        )
        self.expired = Counter(
            "gateway_detect_expired",
            "Claimed sightings older than the window of remembered ids (acknowledged, unapplied)",
            registry=r,
        )
        self.failed = Counter(
            "gateway_detect_failed", "Sightings of failed batches (retried by a claim)", registry=r
        )
        self.undecodable = Counter(
            "gateway_detect_undecodable", "Stream entries no codec version here reads", registry=r
        )
