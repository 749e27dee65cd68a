"""The detection side of the overhead benchmark: ``gateway detect`` workers and metrics.

A gateway variant that appends sightings gets its own ``gateway detect`` processes (the
gateway's settings env, each with its own metrics port: ``GATEWAY_DETECT_LISTEN``, and
``GATEWAY_DETECT_PORT`` as the interface was first announced). Around each measured
round the benchmark reads, from the workers' ``/metrics``, ``gateway_detect_sightings_total``,
``gateway_detect_batches_total`` (the mean batch: a worker's cost per sighting falls with it),
the ``gateway_detect_lag_seconds`` histogram and ``gateway_detect_trimmed_total``, and from the
gateway's admin ``/metrics`` ``gateway_sightings_appended_total`` and
``gateway_sightings_dropped_total``; worker CPU comes from ``/proc`` of the worker pids.
"""

from __future__ import annotations

import math
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from loadtest.bench_procs import REPO, Proc, free_port, gateway_command_error, start, wait_http

SIGHTINGS = "gateway_detect_sightings_total"
BATCHES = "gateway_detect_batches_total"
LAG = "gateway_detect_lag_seconds"
TRIMMED = "gateway_detect_trimmed_total"
APPENDED = "gateway_sightings_appended_total"
DROPPED = "gateway_sightings_dropped_total"


@dataclass(frozen=True)
class Scrape:
    """One ``/metrics`` page: every sample summed over its labels (but ``le``), and the
    cumulative buckets of every histogram."""

    samples: dict[str, float] = field(default_factory=dict)
    buckets: dict[str, dict[float, float]] = field(default_factory=dict)

    def value(self, name: str) -> float:
        return self.samples.get(name, 0.0)

    def __add__(self, other: Scrape) -> Scrape:
        samples = dict(self.samples)
        for k, v in other.samples.items():
            samples[k] = samples.get(k, 0.0) + v
        buckets = {k: dict(v) for k, v in self.buckets.items()}
        for name, bounds in other.buckets.items():
            mine = buckets.setdefault(name, {})
            for le, count in bounds.items():
                mine[le] = mine.get(le, 0.0) + count
        return Scrape(samples, buckets)


def parse_metrics(text: str) -> Scrape:
    samples: dict[str, float] = {}
    buckets: dict[str, dict[float, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_bucket") and "le" in sample.labels:
                bounds = buckets.setdefault(sample.name.removesuffix("_bucket"), {})
                le = float(sample.labels["le"])
                bounds[le] = bounds.get(le, 0.0) + sample.value
            else:
                samples[sample.name] = samples.get(sample.name, 0.0) + sample.value
    return Scrape(samples, buckets)


def scrape(url: str, timeout: float = 5.0) -> Scrape:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return parse_metrics(response.read().decode())


def histogram_quantile(
    before: dict[float, float], after: dict[float, float], q: float
) -> float | None:
    """The ``q`` quantile of the observations between two cumulative bucket readings,
    interpolated linearly inside its bucket (Prometheus' rule); ``inf`` when it lies above
    the largest finite bound, None without observations."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    target = q * counts[-1]
    lower, below = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= target:
            if math.isinf(bound):
                return math.inf
            inside = cumulative - below
            share = (target - below) / inside if inside > 0 else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, cumulative
    return math.inf


def quantile_bucket(buckets: dict[float, float], q: float) -> tuple[float, float] | None:
    """The bounds (lower, upper] of the bucket that holds the ``q`` quantile of cumulative
    ``buckets`` (a delta); None without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    target, lower = q * buckets[bounds[-1]], 0.0
    for bound in bounds:
        if buckets[bound] >= target:
            return lower, bound
        lower = bound
    return lower, math.inf


def detect_available() -> str | None:
    """None when ``python -m gateway detect --help`` works, else why not."""
    if gateway_command_error("detect") is None:
        return None
    return "this checkout has no `gateway detect` (detection runs inside the gateway process)"


@dataclass
class Workers:
    """The ``gateway detect`` processes of one gateway variant."""

    procs: list[Proc]
    ports: list[int]

    @classmethod
    def start(
        cls,
        name: str,
        count: int,
        env: dict[str, str],
        log_dir: Path,
        *,
        wait: bool = True,
        cwd: Path = REPO,
    ) -> Workers:
        """``count`` workers with ``env``; ``wait``: until each answers (else call
        :meth:`wait`); ``cwd``: the checkout whose code they run."""
        procs, ports = [], []
        for i in range(count):
            port = free_port()
            worker_env = {  # the port as branch stream first named it, and as it names it now
                **env,
                "GATEWAY_DETECT_PORT": str(port),
                "GATEWAY_DETECT_LISTEN": f"127.0.0.1:{port}",
            }
            procs.append(
                start(f"{name}-detect-{i}", ["gateway", "detect"], log_dir, worker_env, cwd=cwd)
            )
            ports.append(port)
        workers = cls(procs, ports)
        if wait:
            try:
                workers.wait()
            except RuntimeError:
                workers.stop()
                raise
        return workers

    def wait(self, timeout: float = 30.0) -> None:
        for proc, port in zip(self.procs, self.ports, strict=True):
            wait_http(proc, f"http://127.0.0.1:{port}/metrics", timeout=timeout)

    def cpu(self) -> float:
        return sum(p.cpu() for p in self.procs)

    def write_calls(self) -> int:
        """The workers' write system calls: about one per Redis round trip they make (their
        only other writes are the ``/metrics`` answers and warning logs)."""
        return sum(p.write_calls() for p in self.procs)

    def scrape(self) -> Scrape:
        """Every worker's page summed, but ``TRIMMED``: a running total per shard that each
        worker reads from the stream itself, so the workers' largest."""
        pages = [scrape(f"http://127.0.0.1:{port}/metrics") for port in self.ports]
        total = Scrape()
        for page in pages:
            total = total + page
        total.samples[TRIMMED] = max((p.value(TRIMMED) for p in pages), default=0.0)
        return total

    def drain(self, target: float, timeout: float, idle: float = 1.0) -> Scrape:
        """Wait until the workers have applied ``target`` sightings in all, made no progress
        for ``idle`` seconds, or ``timeout`` passed; the last reading."""
        deadline = time.monotonic() + timeout
        last = self.scrape()
        progressed = time.monotonic()
        while time.monotonic() < deadline and last.value(SIGHTINGS) < target:
            time.sleep(0.2)
            now = self.scrape()
            if now.value(SIGHTINGS) > last.value(SIGHTINGS):
                progressed = time.monotonic()
            elif time.monotonic() - progressed > idle:
                return now
            last = now
        return last

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


def lag_quantiles(before: Scrape, after: Scrape, qs: Sequence[float]) -> list[float | None]:
    b, a = before.buckets.get(LAG, {}), after.buckets.get(LAG, {})
    return [histogram_quantile(b, a, q) for q in qs]
