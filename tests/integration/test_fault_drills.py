"""``python -m loadtest.faults`` in miniature: every drill, short phases, its own processes.

The drills' verdicts are the issue's targets: no 5xx in fail open (Redis killed or frozen),
only 503 in fail closed, 502 / 504 when the upstream dies or hangs, no concurrency slot
left behind by clients that hang up mid-stream, Redis deciding again after recovery.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loadtest.faults.drills import Plan, run_all
from loadtest.faults.load import Row
from loadtest.faults.stack import Stack

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(150)]

TINY = Plan(before=0.4, during=1.2, upstream=0.6, workers=2, max_requests=500,
            disconnects=40, parallel=8)  # fmt: skip


def statuses(r: Row) -> set[str]:
    return {part.split("x")[0] for part in r.statuses.split()}


async def test_every_drill_meets_its_target(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    try:
        await asyncio.to_thread(stack.start)
        rows = await asyncio.wait_for(run_all(stack, TINY), 120)
    finally:
        stack.stop()
    by = {(r.drill, r.mode): r for r in rows}
    print("\n" + "\n".join(str(r) for r in rows))
    for fault in ("Redis killed", "Redis frozen"):
        opened, closed = by[(fault, "open")], by[(fault, "closed")]
        assert opened.requests and statuses(opened) == {"200"} and opened.errors_5xx == 0
        assert closed.requests and statuses(closed) == {"503"}
        assert "not within" not in opened.after + closed.after
    assert statuses(by[("upstream killed", "-")]) == {"502"}
    assert statuses(by[("upstream hung", "-")]) == {"504"}
    streams = by[("client hangs up mid-stream", "open")]
    assert streams.requests == TINY.disconnects and statuses(streams) == {"200"}
    assert streams.after.startswith("leaked slots: 0 ")
