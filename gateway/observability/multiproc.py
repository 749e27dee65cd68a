"""One ``/metrics`` per instance with ``serve --workers N``: prometheus-client multiprocess mode.

The library picks its value store when it is imported: with ``PROMETHEUS_MULTIPROC_DIR`` in
the environment every counter, gauge and histogram writes to a per-process mmap file in that
directory, and a ``MultiProcessCollector`` merges the files of all processes at scrape time.

The parent ``serve`` owns the directory (:class:`WorkerMetricsDir`): a fresh private one per
run (so files of an earlier run never count), placed in the environment only while workers are
started, each worker's live gauges dropped when it exits, the whole directory removed at the
end. A worker learns it from its environment (:func:`shared_dir`), which is also what the
library reads. Single-process mode uses no files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from types import TracebackType

from prometheus_client import values
from prometheus_client.multiprocess import mark_process_dead

ENV = "PROMETHEUS_MULTIPROC_DIR"
_LEGACY_ENV = "prometheus_multiproc_dir"  # still honoured by the library


class MultiprocConfigError(RuntimeError):
    """Multiprocess metrics are half set up (library mode and directory disagree)."""


def library_is_multiprocess() -> bool:
    """Whether prometheus-client chose mmap files for values in this process (at import)."""
    return bool(values.ValueClass._multiprocess)


def shared_dir(environ: MutableMapping[str, str] | None = None) -> str | None:
    """The directory all workers write to, or ``None`` when this process keeps its own values.

    Raises when the library writes files but the directory is missing, and when the variable
    appeared only after the library was imported (values would not reach the files).
    """
    env = os.environ if environ is None else environ
    path = env.get(ENV)
    if not library_is_multiprocess():
        if path:
            raise MultiprocConfigError(
                f"{ENV} was set after prometheus_client was imported; metrics would not be shared"
            )
        return None
    if not path or not os.path.isdir(path):
        raise MultiprocConfigError(f"{ENV} must name an existing directory, got {path!r}")
    return path


def inherited_setting(environ: MutableMapping[str, str] | None = None) -> str | None:
    """The multiprocess variable as set by whoever started us, if any (it is ours to set)."""
    env = os.environ if environ is None else environ
    return env.get(ENV) or env.get(_LEGACY_ENV)


class WorkerMetricsDir:
    """The parent's side: create, hand to workers, mark exited workers, remove."""

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        self._env = os.environ if environ is None else environ
        self.path: str | None = None

    def __enter__(self) -> WorkerMetricsDir:
        self.path = tempfile.mkdtemp(prefix="distillguard-metrics-")
        os.chmod(self.path, 0o700)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    @contextmanager
    def exported(self) -> Iterator[str]:
        """The directory in the environment while workers start (spawned children inherit
        it); the previous values are put back afterwards."""
        path = self._require()
        saved = {name: self._env.get(name) for name in (ENV, _LEGACY_ENV)}
        self._env.pop(_LEGACY_ENV, None)
        self._env[ENV] = path
        try:
            yield path
        finally:
            for name, value in saved.items():
                if value is None:
                    self._env.pop(name, None)
                else:
                    self._env[name] = value

    def worker_exited(self, pid: int) -> None:
        """Drop the exited worker's live gauges (its counters and histograms keep counting)."""
        mark_process_dead(pid, self._require())  # type: ignore[no-untyped-call]

    def _require(self) -> str:
        if self.path is None:
            raise MultiprocConfigError("WorkerMetricsDir used outside its with block")
        return self.path
