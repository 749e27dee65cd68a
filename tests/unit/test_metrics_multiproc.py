"""Metrics shared by worker processes (prometheus-client multiprocess mode), and the
single-process default that keeps its own registry and writes no files."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability.metrics import Metrics
from gateway.observability.multiproc import (
    ENV,
    MultiprocConfigError,
    WorkerMetricsDir,
    library_is_multiprocess,
)


def _worker(requests: int) -> None:
    """A worker's metrics: ``requests`` answered, one still in flight when it exits."""
    metrics = Metrics()
    assert metrics.shared_dir == os.environ[ENV]
    for _ in range(requests):
        metrics.request_counter(200, "allow").inc()
        metrics.latency_for("allow").observe(0.02)
    metrics.in_flight.inc()
    metrics.store_available.set(1)


def _merged(path: str) -> dict[str, float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def test_single_process_metrics_keep_their_own_registry(tmp_path: Path) -> None:
    assert not library_is_multiprocess()
    metrics = Metrics()
    assert metrics.shared_dir is None
    metrics.request_counter(200, "allow").inc()
    metrics.in_flight.inc()
    metrics.store_available.set(1)
    text = metrics.render().decode()
    assert 'gateway_requests_total{decision="allow",status="200"} 1.0' in text
    assert "gateway_requests_in_flight 1.0" in text
    assert "gateway_store_available 1.0" in text


def test_a_directory_named_after_import_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    with pytest.raises(MultiprocConfigError, match="after prometheus_client was imported"):
        Metrics()


def test_each_run_gets_a_fresh_private_directory_exported_only_while_starting() -> None:
    environ = {ENV: "/elsewhere", "OTHER": "x"}
    with WorkerMetricsDir(environ) as first, WorkerMetricsDir(environ) as second:
        assert first.path is not None and second.path is not None
        assert first.path != second.path
        assert os.listdir(first.path) == []
        info = os.stat(first.path)
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
        with first.exported() as path:
            assert environ == {ENV: path, "OTHER": "x"}
        assert environ == {ENV: "/elsewhere", "OTHER": "x"}
        kept = first.path
    assert not os.path.exists(kept)
    with pytest.raises(MultiprocConfigError):
        first.worker_exited(1)


def test_workers_are_merged_and_an_exited_workers_gauges_are_dropped() -> None:
    ctx = multiprocessing.get_context("spawn")
    with WorkerMetricsDir() as shared:
        assert shared.path is not None
        with shared.exported():
            procs = [ctx.Process(target=_worker, args=(n,)) for n in (3, 4)]
            for proc in procs:
                proc.start()
        assert ENV not in os.environ
        for proc in procs:
            proc.join(60)
            assert proc.exitcode == 0
        totals = _merged(shared.path)
        assert totals["gateway_requests_total"] == 7
        assert totals["gateway_request_duration_seconds_count"] == 7
        assert totals["gateway_requests_in_flight"] == 2  # neither marked dead yet
        assert totals["gateway_store_available"] == 1  # one series, not one per worker

        assert procs[0].pid is not None
        shared.worker_exited(procs[0].pid)
        totals = _merged(shared.path)
        assert totals["gateway_requests_total"] == 7  # an exited worker's counts stay
        assert totals["gateway_requests_in_flight"] == 1
