"""Hot reload: the holder (atomic swap, last good) and the watcher (files, ConfigMap, SIGHUP)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from gateway.policy.holder import PolicyHolder
from gateway.policy.loader import LoadedPolicy, PolicyError
from gateway.policy.watcher import PolicyWatcher


def policy_text(rate: str) -> str:
    return f"version: 1\ntiers:\n  free:\n    requests: {rate}\n"


def rate_of(loaded: LoadedPolicy) -> str:
    requests = loaded.policy.tiers["free"].requests
    assert requests is not None
    return requests.rate.text


def write(path: Path, text: str) -> None:
    """Write a policy file (a plain, blocking write, as an operator or editor does)."""
    path.write_text(text)


async def wait_for(condition: Callable[[], bool], within: float) -> float:
    """Seconds until ``condition()`` held; fails after ``within`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


class Recorder:
    def __init__(self) -> None:
        self.errors: list[tuple[str, ...]] = []
        self.reloads: list[str] = []

    def on_error(self, messages: tuple[str, ...]) -> None:
        self.errors.append(messages)

    def on_reload(self, loaded: LoadedPolicy) -> None:
        self.reloads.append(loaded.version)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text("5/minute"))
    return path


@pytest.fixture
async def watched(policy_file: Path) -> AsyncIterator[tuple[PolicyHolder, Recorder]]:
    holder = PolicyHolder.load(str(policy_file))
    recorder = Recorder()
    watcher = PolicyWatcher(holder, on_error=recorder.on_error, on_reload=recorder.on_reload)
    watcher.start()
    yield holder, recorder
    await watcher.stop()


def test_holder_reload_swaps_keeps_last_good_and_notifies(policy_file: Path) -> None:
    holder = PolicyHolder.load(str(policy_file))
    first = holder()
    seen: list[str] = []
    failures: list[tuple[str, ...]] = []
    unsubscribe = holder.subscribe(lambda loaded: seen.append(loaded.version))
    holder.subscribe_errors(failures.append)

    same = holder.reload()
    assert (same.ok, same.changed, same.version) == (True, False, first.version) and seen == []

    policy_file.write_text(policy_text("5 per minute"))
    with capture_logs() as logs:
        bad = holder.reload()
    assert not bad.ok and holder() is first and holder.last_errors == bad.errors
    assert failures == [bad.errors] and len(bad.errors) == 1
    assert [e["event"] for e in logs] == ["policy_reload_failed"]
    assert logs[0]["error"] == bad.errors[0] and logs[0]["kept"] == first.version

    policy_file.write_text(policy_text("7/minute"))
    with capture_logs() as logs:
        good = holder.reload()
    assert good.ok and good.changed and rate_of(holder.current) == "7/minute"
    assert seen == [good.version] and holder.last_errors == ()
    assert [(e["event"], e["version"]) for e in logs] == [("policy_reloaded", good.version)]

    unsubscribe()
    policy_file.write_text(policy_text("8/minute"))
    assert holder.reload().changed and seen == [good.version]


def test_a_failing_listener_does_not_undo_the_swap(policy_file: Path) -> None:
    holder = PolicyHolder.load(str(policy_file))

    def broken(_: LoadedPolicy) -> None:
        raise RuntimeError("listener bug")

    holder.subscribe(broken)
    policy_file.write_text(policy_text("9/minute"))
    assert holder.reload().changed and rate_of(holder()) == "9/minute"


def test_startup_with_an_invalid_policy_fails_loudly(policy_file: Path) -> None:
    policy_file.write_text(policy_text("lots"))
    with pytest.raises(PolicyError):
        PolicyHolder.load(str(policy_file))


async def test_file_change_takes_effect_within_two_seconds(
    policy_file: Path, watched: tuple[PolicyHolder, Recorder]
) -> None:
    holder, recorder = watched
    write(policy_file, policy_text("6/minute"))
    elapsed = await wait_for(lambda: rate_of(holder()) == "6/minute", within=2.0)
    assert elapsed < 2.0 and recorder.reloads == [holder().version]


async def test_broken_file_keeps_last_good_then_fix_reloads(
    policy_file: Path, watched: tuple[PolicyHolder, Recorder]
) -> None:
    holder, recorder = watched
    good = holder()
    write(policy_file, policy_text("5 per minute"))
    await wait_for(lambda: bool(recorder.errors), within=2.0)
    assert holder() is good
    assert recorder.errors == [
        (
            f'{policy_file}:4: tiers.free.requests: expected "N/period" '
            'such as "5/minute", got "5 per minute"',
        )
    ]
    await asyncio.sleep(1.2)  # nothing changes: no second attempt, no second error
    assert len(recorder.errors) == 1
    write(policy_file, policy_text("11/minute"))
    await wait_for(lambda: rate_of(holder()) == "11/minute", within=2.0)
    assert recorder.reloads == [holder().version]


async def test_touch_without_content_change_is_not_a_reload(
    policy_file: Path, watched: tuple[PolicyHolder, Recorder]
) -> None:
    holder, recorder = watched
    before = holder()
    write(policy_file, "# a comment changes nothing\n" + policy_text("5/minute"))
    await asyncio.sleep(1.5)
    assert holder() is before and recorder.reloads == [] and recorder.errors == []


def configmap(folder: Path, stamp: str, text: str) -> None:
    """Write a ConfigMap volume update the way the kubelet does: new dir, atomic link swap."""
    data = folder / f"..{stamp}"
    data.mkdir()
    (data / "policy.yaml").write_text(text)
    old = os.readlink(folder / "..data") if (folder / "..data").is_symlink() else None
    os.symlink(data.name, folder / "..data_tmp")
    os.replace(folder / "..data_tmp", folder / "..data")
    if not (folder / "policy.yaml").is_symlink():
        os.symlink("..data/policy.yaml", folder / "policy.yaml")
    if old is not None:
        shutil.rmtree(folder / old)


async def test_configmap_symlink_swap_is_reloaded(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    configmap(folder, "2026_01_01_00_00_00.1", policy_text("5/minute"))
    holder = PolicyHolder.load(str(folder))
    recorder = Recorder()
    watcher = PolicyWatcher(holder, on_error=recorder.on_error, on_reload=recorder.on_reload)
    watcher.start()
    try:
        configmap(folder, "2026_01_01_00_01_00.2", policy_text("12/minute"))
        await wait_for(lambda: rate_of(holder()) == "12/minute", within=2.0)
        configmap(folder, "2026_01_01_00_02_00.3", policy_text("nonsense"))
        await wait_for(lambda: bool(recorder.errors), within=2.0)
        assert rate_of(holder()) == "12/minute"
        configmap(folder, "2026_01_01_00_03_00.4", policy_text("13/minute"))
        await wait_for(lambda: rate_of(holder()) == "13/minute", within=2.0)
        assert len(recorder.reloads) == 2 and holder.current.sources == (
            str(folder / "policy.yaml"),
        )
    finally:
        await watcher.stop()


async def test_sighup_reloads_at_once(policy_file: Path) -> None:
    holder = PolicyHolder.load(str(policy_file))
    watcher = PolicyWatcher(holder, interval=60.0)  # polling alone would take a minute
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, watcher.on_sighup)
    watcher.start()
    try:
        await asyncio.sleep(0.05)
        write(policy_file, policy_text("14/minute"))
        os.kill(os.getpid(), signal.SIGHUP)
        elapsed = await wait_for(lambda: rate_of(holder()) == "14/minute", within=2.0)
        assert elapsed < 1.0
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await watcher.stop()


async def test_poll_waits_for_the_files_to_settle(policy_file: Path) -> None:
    holder = PolicyHolder.load(str(policy_file))
    watcher = PolicyWatcher(holder)
    write(policy_file, policy_text("15/minute"))
    assert await watcher.poll() is None  # changed since the last poll: wait one interval
    result = await watcher.poll()
    assert result is not None and result.changed and rate_of(holder()) == "15/minute"
    assert await watcher.poll() is None
