"""The policy in effect: one reference swapped atomically, the last good one kept.

Readers call the holder (``holder()``) or read ``holder.current`` once per request and use
that :class:`LoadedPolicy` throughout: a reload never changes a request half-way. A reload
whose files are invalid keeps the running policy and reports every message; one whose
content hash equals the running version is not a change (no listener is called).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.policy.loader import LoadedPolicy, PolicyError, PolicyPaths, load_policy

Listener = Callable[[LoadedPolicy], None]
ErrorListener = Callable[[tuple[str, ...]], None]
Loader = Callable[[PolicyPaths], LoadedPolicy]
Outcome = LoadedPolicy | PolicyError


def _log() -> Any:
    # looked up per use (reloads are rare): honours logging configured after import
    return structlog.get_logger("gateway.policy")


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did. ``version`` is the version in effect afterwards."""

    ok: bool
    changed: bool
    version: str
    errors: tuple[str, ...] = ()


class PolicyHolder:
    """Holds the current policy; reloads it from ``paths`` on demand."""

    def __init__(
        self, paths: PolicyPaths, initial: LoadedPolicy, *, loader: Loader = load_policy
    ) -> None:
        self._paths = paths
        self._current = initial
        self._loader = loader
        self._errors: tuple[str, ...] = ()
        self._listeners: list[Listener] = []
        self._error_listeners: list[ErrorListener] = []

    @classmethod
    def load(cls, paths: PolicyPaths, *, loader: Loader = load_policy) -> PolicyHolder:
        """Load the initial policy; raises :class:`PolicyError` (start-up must fail loudly)."""
        return cls(paths, loader(paths), loader=loader)

    def __call__(self) -> LoadedPolicy:
        return self._current

    @property
    def current(self) -> LoadedPolicy:
        return self._current

    @property
    def paths(self) -> PolicyPaths:
        return self._paths

    @property
    def last_errors(self) -> tuple[str, ...]:
        """The messages of the last failed reload; empty once a reload succeeds."""
        return self._errors

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(new)`` after each change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def subscribe_errors(self, listener: ErrorListener) -> Callable[[], None]:
        """Call ``listener(messages)`` after each rejected reload."""
        self._error_listeners.append(listener)
        return lambda: self._error_listeners.remove(listener)

    def try_load(self) -> Outcome:
        """Load the files (blocking I/O; safe to run in a thread). Changes nothing."""
        try:
            return self._loader(self._paths)
        except PolicyError as exc:
            return exc

    def reload(self, trigger: str = "reload") -> ReloadResult:
        """Load and apply in one go (the admin API, tests)."""
        return self.apply(self.try_load(), trigger)

    def apply(self, outcome: Outcome, trigger: str = "reload") -> ReloadResult:
        """Swap to a loaded policy, or keep the current one and report the errors."""
        previous = self._current
        if isinstance(outcome, PolicyError):
            self._errors = tuple(outcome.messages)
            for message in self._errors:
                _log().warning(
                    "policy_reload_failed", error=message, trigger=trigger, kept=previous.version
                )
            self._notify_errors(self._errors)
            return ReloadResult(False, False, previous.version, self._errors)
        self._errors = ()
        if outcome.version == previous.version:
            _log().debug("policy_unchanged", version=previous.version, trigger=trigger)
            return ReloadResult(True, False, previous.version)
        self._current = outcome
        _log().info(
            "policy_reloaded",
            version=outcome.version,
            previous=previous.version,
            sources=list(outcome.sources),
            trigger=trigger,
        )
        for listener in list(self._listeners):
            try:
                listener(outcome)
            except Exception:  # a broken listener must not undo the swap
                _log().exception("policy_listener_failed", version=outcome.version)
        return ReloadResult(True, True, outcome.version)

    def _notify_errors(self, errors: tuple[str, ...]) -> None:
        for listener in list(self._error_listeners):
            try:
                listener(errors)
            except Exception:
                _log().exception("policy_error_listener_failed")
