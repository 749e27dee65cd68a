"""The serving process's collector: start-up objects frozen, a higher young threshold."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway import server
from gateway.gc_tuning import GEN0_THRESHOLD, tune_for_serving


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_tuning_freezes_the_heap_and_raises_the_young_threshold() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    held = Node()  # alive at start-up: frozen, never walked again
    tune_for_serving()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == GEN0_THRESHOLD > 700
    assert not any(o is held for o in gc.get_objects())  # frozen objects are not tracked
    for _ in range(3):
        Node()  # garbage cycles are still collected
    assert gc.collect() >= 3


def test_the_serving_process_tunes_once_it_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    async def fake_gateway(settings: object, **kwargs: object) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(server, "run_gateway", fake_gateway)
    monkeypatch.setattr(server, "configure_logging", lambda *a: None)
    monkeypatch.setattr(server, "_install_uvloop", lambda: None)
    settings = server.Settings()
    assert server._worker_main(settings, 3) == 0
    assert seen == {"worker": 3, "on_ready": tune_for_serving}


def test_the_detect_worker_tunes_once_it_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway import detect

    seen: dict[str, object] = {}

    async def fake_detect(settings: object, **kwargs: object) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(detect, "run_detect", fake_detect)
    monkeypatch.setattr(detect, "configure_logging", lambda *a: None)
    assert detect.detect(detect.Settings()) == 0
    assert seen == {"on_ready": tune_for_serving}
