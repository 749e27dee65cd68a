"""Start-up as an operator meets it: real ``python -m gateway`` processes on loopback.

* From an empty folder with only ``GATEWAY_UPSTREAM``/``GATEWAY_LISTEN`` set, ``serve`` uses
  the policy shipped in the package, says so, and ``/readyz`` answers 200.
* Every start-up failure is one line on stderr naming the problem, a non-zero exit, no
  traceback and no ``Unclosed client session``.
* ``mock-upstream`` logs where it listens; ``serve --workers 2`` workers log their own admin
  ports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from replica_procs import HOST, free_port, port_pair

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
START = 45.0  # seconds: importing the gateway on a busy 2-core machine


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=START,
        stdin=subprocess.DEVNULL,
    )


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@contextmanager
def _started(args: list[str], cwd: Path, env: dict[str, str], ready: str) -> Iterator[Path]:
    """A process whose ``ready`` URL answers; its output file; stopped (SIGTERM) after."""
    out = cwd / f"out-{time.monotonic_ns()}.log"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", *args],
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + START
        while _status(ready) is None:
            assert proc.poll() is None, f"exited {proc.returncode}:\n{out.read_text()}"
            assert time.monotonic() < deadline, f"{ready} never answered:\n{out.read_text()}"
            time.sleep(0.1)
        yield out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _events(out: Path, name: str) -> list[dict[str, object]]:
    lines = [line for line in out.read_text().splitlines() if line.startswith("{")]
    return [e for e in map(json.loads, lines) if e.get("event") == name]


def _until_events(out: Path, name: str, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + START
    while len(found := _events(out, name)) < count and time.monotonic() < deadline:
        time.sleep(0.1)  # log lines are flushed within a fraction of a second
    return found


def test_serve_from_an_empty_folder_uses_the_bundled_policy(tmp_path: Path) -> None:
    port = free_port()
    env = _env(GATEWAY_UPSTREAM="http://127.0.0.1:9", GATEWAY_LISTEN=f"{HOST}:{port}")
    url = f"http://{HOST}:{port}/readyz"
    with _started(["serve"], tmp_path, env, url) as out:
        assert _status(url) == 200
        (event,) = _until_events(out, "policy_bundled", 1)
    policy = Path(str(event["policy"]))
    assert policy.name == "default.yaml" and policy.is_file()
    assert event["missing"] == "policies"
    assert "Traceback" not in out.read_text()


def test_an_explicit_missing_policy_path_is_not_replaced(tmp_path: Path) -> None:
    result = _run(["serve"], tmp_path, _env(GATEWAY_POLICIES="policies"))
    _assert_one_line(result, "gateway: policy: policies: no such file or directory")


def _assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [expected], result.stderr
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text and "Unclosed" not in text


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_busy_port(tmp_path: Path, busy_port: int) -> None:
    result = _run(["serve"], tmp_path, _env(GATEWAY_LISTEN=f"{HOST}:{busy_port}"))
    _assert_one_line(
        result,
        f"gateway: cannot listen on {HOST}:{busy_port} (GATEWAY_LISTEN): address already in use",
    )


def test_busy_admin_port_closes_what_was_started(tmp_path: Path, busy_port: int) -> None:
    env = _env(GATEWAY_LISTEN=f"{HOST}:{free_port()}", GATEWAY_ADMIN_LISTEN=f"{HOST}:{busy_port}")
    result = _run(["serve"], tmp_path, env)
    _assert_one_line(
        result,
        f"gateway: cannot listen on {HOST}:{busy_port} (GATEWAY_ADMIN_LISTEN): "
        "address already in use",
    )


def test_unreadable_policy(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("version: [\n")
    result = _run(["serve"], tmp_path, _env(GATEWAY_POLICIES="bad.yaml"))
    assert result.stderr.startswith("gateway: policy: bad.yaml:")
    _assert_one_line(result, result.stderr.strip())


def test_unreachable_redis_when_failing_closed_is_one_warning_not_an_exit(
    tmp_path: Path,
) -> None:
    """Not a start-up failure (an exit would crash-loop every replica through a Redis
    restart): one warning naming the store, then /readyz 503 until it answers."""
    policy = (ROOT / "policies" / "default.yaml").read_text()
    closed = policy.replace("failure_mode: open ", "failure_mode: closed", 1)
    assert closed != policy
    (tmp_path / "closed.yaml").write_text(closed)
    port = free_port()
    env = _env(
        GATEWAY_LISTEN=f"{HOST}:{port}",
        GATEWAY_POLICIES="closed.yaml",
        GATEWAY_STORE=f"redis://:secret-password@{HOST}:{free_port()}/0",  # nothing there
        GATEWAY_LINK_SECRET="test-link-secret",
    )
    with _started(["serve"], tmp_path, env, f"http://{HOST}:{port}/healthz") as out:
        assert _status(f"http://{HOST}:{port}/readyz") == 503
        (event,) = _until_events(out, "store_unreachable_at_start", 1)
    assert event["failure_mode"] == "closed"
    assert event["store"] == env["GATEWAY_STORE"].split("@")[1]
    text = out.read_text()
    assert "secret-password" not in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"GATEWAY_WORKERS": "many"},
            "gateway: invalid setting workers (env GATEWAY_WORKERS): "
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"GATEWAY_STORE": "redis://127.0.0.1:6379/0"},
            "gateway: invalid settings: link_secret (env GATEWAY_LINK_SECRET) is required "
            "with a Redis store: the same value on every replica",
        ),
    ],
)
def test_bad_settings(tmp_path: Path, env: dict[str, str], line: str) -> None:
    _assert_one_line(_run(["serve"], tmp_path, _env(**env)), line)


def test_mock_upstream_busy_port_and_start_line(tmp_path: Path, busy_port: int) -> None:
    result = _run(["mock-upstream", "--listen", f"{HOST}:{busy_port}"], tmp_path, _env())
    _assert_one_line(
        result, f"gateway: cannot listen on {HOST}:{busy_port} (--listen): address already in use"
    )
    port = free_port()
    args = ["mock-upstream", "--listen", f"{HOST}:{port}"]
    with _started(args, tmp_path, _env(), f"http://{HOST}:{port}/mock/stats") as out:
        (event,) = _until_events(out, "mock_upstream_started", 1)
    assert event["listen"] == f"{HOST}:{port}"


def test_demo_busy_port_prints_no_keys(tmp_path: Path, busy_port: int) -> None:
    result = _run(["demo", "--port", str(busy_port)], tmp_path, _env())
    assert "API key" not in result.stdout
    _assert_one_line(
        result,
        f"gateway: cannot listen on {HOST}:{busy_port} (GATEWAY_LISTEN): address already in use",
    )


def test_workers_log_their_own_admin_port(tmp_path: Path) -> None:
    port, admin = free_port(), port_pair()  # worker i serves admin on admin + i
    env = _env(
        GATEWAY_LISTEN=f"{HOST}:{port}",
        GATEWAY_ADMIN_LISTEN=f"{HOST}:{admin}",
        GATEWAY_WORKERS="2",
        GATEWAY_UPSTREAM="http://127.0.0.1:9",
    )
    with _started(["serve"], tmp_path, env, f"http://{HOST}:{port}/healthz") as out:
        started = _until_events(out, "gateway_started", 2)
    by_worker = {e["worker"]: e["admin"] for e in started}
    expected = {0: f"{HOST}:{admin}", 1: f"{HOST}:{admin + 1}"}
    assert by_worker == expected, out.read_text()
