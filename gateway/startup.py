"""Start-up: the policy a process loads, the checks it makes before it serves, and how a
start-up failure is told (one line naming the problem, a non-zero exit, no traceback).
An unreachable store is not a start-up failure (see :func:`check_store`).

A :class:`StartupError` carries that line. The commands (``serve``, ``demo``,
``mock-upstream``) print ``gateway: <line>`` on stderr and exit with :data:`EXIT_CODE`.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

import structlog
from aiohttp import web

from gateway.limiter.store import BudgetStore
from gateway.policy.loader import PolicyError
from gateway.settings import Settings, SettingsError

log = structlog.get_logger("gateway.startup")

EXIT_CODE = 2
BUNDLED_POLICY = "policy/bundled/default.yaml"

T = TypeVar("T")


class StartupError(Exception):
    """The process cannot start; the message is one line naming the problem."""


def bundled_policy() -> Path:
    """The default policy shipped inside the package."""
    return Path(str(resources.files("gateway").joinpath(BUNDLED_POLICY)))


def policy_source(settings: Settings) -> str:
    """The configured policy path; the bundled policy when the setting was left at its
    default and that path does not exist (logged). A path set explicitly is never replaced:
    if it is missing, loading it fails and names it."""
    path = settings.policies
    if "policies" in settings.model_fields_set or Path(path).exists():
        return path
    bundled = str(bundled_policy())
    log.info(
        "policy_bundled",
        policy=bundled,
        missing=path,
        hint="set GATEWAY_POLICIES to a policy file or folder of your own",
    )
    return bundled


def policy_problem(exc: PolicyError) -> str:
    """One line for a policy that cannot be loaded."""
    first = exc.messages[0] if exc.messages else str(exc)
    more = len(exc.messages) - 1
    tail = f" (and {more} more: run `gateway policy check`)" if more > 0 else ""
    return f"policy: {first}{tail}"


async def start_site(site: web.TCPSite, setting: str) -> None:
    """Start listening; a busy or forbidden address is a :class:`StartupError`."""
    try:
        await site.start()
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        where = site.name.removeprefix("http://")
        raise StartupError(f"cannot listen on {where} ({setting}): {reason}") from None


async def check_store(store: BudgetStore, url: str, failure_mode: str) -> bool:
    """Ping the store once; a store that does not answer is one warning line naming it.

    The gateway still starts: it picks the store up when it answers (the circuit breaker
    probes it), and meanwhile fail-closed answers 503 and ``/readyz`` 503 (not ready: no
    traffic is routed to it), fail-open serves under its fallback limiter. An exit here
    would turn a Redis restart into a crash loop of every replica."""
    if await store.ping():
        return True
    log.warning(
        "store_unreachable_at_start",
        store=url.split("@")[-1],  # never the password
        failure_mode=failure_mode,
        hint="closed: 503 until it answers; open: a per-process fallback limiter",
    )
    return False


def one_line(exc: BaseException) -> str:
    """The line printed for a failure before the process serves."""
    if isinstance(exc, StartupError | SettingsError):
        return str(exc)
    if isinstance(exc, PolicyError):
        return policy_problem(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    text = " ".join(str(exc).split())
    return f"start-up failed: {type(exc).__name__}" + (f": {text}" if text else "")


def run_command(main: Callable[[], Awaitable[T]], run: Callable[..., T]) -> T | int:
    """Run a command's coroutine with ``run`` (``asyncio.run``, ``uvloop.run``); a start-up
    failure becomes one line on stderr and :data:`EXIT_CODE`. Ctrl-C is a clean stop."""
    try:
        return run(main())
    except KeyboardInterrupt:
        return 0
    except (StartupError, SettingsError, PolicyError) as exc:
        print(f"gateway: {one_line(exc)}", file=sys.stderr, flush=True)
        return EXIT_CODE
