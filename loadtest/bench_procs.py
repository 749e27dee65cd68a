"""Processes of the overhead benchmark: ports, start, readiness, CPU time, stop.

CPU time comes from ``/proc/PID/stat`` (utime + stime of the process and its descendants),
so no psutil is needed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # fields from "state" on (comm may hold spaces)


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _tree(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        if _stat(current) is not None:
            found.append(current)
            todo.extend(_children(current))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every live descendant."""
    total = 0.0
    for current in _tree(pid):
        fields = _stat(current)
        if fields is not None:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def write_calls(pid: int) -> int:
    """Write system calls (``/proc/PID/io`` syscw) of ``pid`` and every live descendant."""
    total = 0
    for current in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/io").read_text().splitlines():
                if line.startswith("syscw:"):
                    total += int(line.split()[1])
    return total


@dataclass
class Proc:
    """A child process with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def write_calls(self) -> int:
        return write_calls(self.pid)

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)


def wait_idle(
    procs: list[Proc], timeout: float, *, window: float = 0.5, busy: float = 0.05
) -> float:
    """Wait until ``procs`` together use less than ``busy`` of a core over ``window``
    seconds (their off-path work after a load is done), or ``timeout`` passed; the seconds
    waited."""
    started = time.monotonic()
    last = sum(p.cpu() for p in procs)
    while time.monotonic() - started < timeout:
        time.sleep(window)
        now = sum(p.cpu() for p in procs)
        if now - last < busy * window:
            break
        last = now
    return time.monotonic() - started


def start(
    name: str,
    module_args: list[str],
    log_dir: Path,
    env: dict[str, str] | None = None,
    *,
    python: bool = True,
    cwd: Path = REPO,
) -> Proc:
    """``python -m <module_args>`` (or the command itself when not ``python``) from the
    repository root (or ``cwd``: another checkout's code, imported first), its output in
    ``log_dir/name.log``."""
    log = log_dir / f"{name}.log"
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = [sys.executable, "-m", *module_args] if python else module_args
    with log.open("wb") as out:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Proc(name, popen, log)


def start_redis(log_dir: Path, timeout: float = 10.0) -> tuple[Proc, str]:
    """A private redis-server (no persistence) on a free port, and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("--own-redis needs redis-server on PATH")
    port = free_port()
    proc = start(
        "redis",
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(log_dir),
        ],
        log_dir,
        python=False,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return proc, f"redis://127.0.0.1:{port}/0"
        if proc.popen.poll() is not None:
            break
        time.sleep(0.05)
    proc.stop()
    raise RuntimeError(f"redis-server did not start:\n{proc.tail()}")


def wait_http(proc: Proc, url: str, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers with any HTTP status; fail if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=1.0):
                return
        except urllib.error.HTTPError:
            return  # it answered (401 without a key is fine)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:.0f}s:\n{proc.tail()}")


def gateway_command_error(command: str) -> str | None:
    """None when ``python -m gateway COMMAND --help`` works in this checkout, else the last
    line it printed on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", command, "--help"],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    if done.returncode == 0:
        return None
    return (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[-1]


def run_json(module_args: list[str], timeout: float) -> str:
    """Run ``python -m <module_args>`` and return its stdout (raises on failure)."""
    result = subprocess.run(
        [sys.executable, "-m", *module_args],
        cwd=REPO,
        capture_output=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module_args[0]} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode()
