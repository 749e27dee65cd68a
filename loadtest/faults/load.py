"""Bounded load and what it saw: answers, latency percentiles, one table row per drill."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

CLIENT_TIMEOUT = 10.0  # no single request of a drill waits longer than this


@dataclass(frozen=True)
class Answer:
    started: float  # time.perf_counter() when sent
    status: int  # 0: the client gave up (timeout, reset)
    seconds: float


@dataclass(frozen=True)
class Row:
    drill: str
    mode: str
    requests: int
    statuses: str
    errors_5xx: int
    p50_ms: str
    p99_ms: str
    max_ms: str
    after: str


def chat_payload(stream: bool = False) -> dict[str, object]:
    text = f"Say hi ({uuid.uuid4().hex[:8]})."
    return {"model": "mock-gpt", "max_tokens": 8, "stream": stream,
            "messages": [{"role": "user", "content": text}]}  # fmt: skip


async def chat(http: aiohttp.ClientSession, url: str, key: str) -> Answer:
    """One chat completion; status 0 when the client gave up."""
    started = time.perf_counter()
    try:
        async with http.post(
            f"{url}/v1/chat/completions",
            json=chat_payload(),
            headers={"Authorization": f"Bearer {key}"},
            timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT),
        ) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        status = 0
    return Answer(started, status, time.perf_counter() - started)


async def load(
    send: Callable[[], Awaitable[Answer]], seconds: float, workers: int, max_requests: int
) -> list[Answer]:
    """``workers`` clients sending back to back for ``seconds`` (at most ``max_requests``)."""
    answers: list[Answer] = []
    deadline = 0.0
    sent = 0

    async def worker() -> None:
        nonlocal sent, deadline
        deadline = deadline or time.monotonic() + seconds  # from when the workers start
        while time.monotonic() < deadline and sent < max_requests:
            sent += 1
            answers.append(await send())

    await asyncio.gather(*(worker() for _ in range(workers)))
    return answers


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in [0, 1]) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def statuses(answers: list[Answer]) -> str:
    counts = Counter(a.status for a in answers)
    return " ".join(f"{status or 'none'}x{n}" for status, n in sorted(counts.items()))


def row(drill: str, mode: str, answers: list[Answer], base: list[Answer] | None, after: str) -> Row:
    """A table row: latencies of ``answers``, with what they added to ``base``'s."""
    if not answers:
        return Row(drill, mode, 0, "-", 0, "-", "-", "-", after)
    seconds = [a.seconds for a in answers]

    def cell(share: float) -> str:
        value = percentile(seconds, share) * 1000
        if not base:
            return f"{value:.0f}"
        added = value - percentile([a.seconds for a in base], share) * 1000
        return f"{value:.0f} ({added:+.0f})"

    fivexx = sum(1 for a in answers if a.status >= 500)
    worst = f"{max(seconds) * 1000:.0f}"
    return Row(
        drill, mode, len(answers), statuses(answers), fivexx, cell(0.5), cell(0.99), worst, after
    )


def table(rows: list[Row]) -> str:
    """A Markdown table of the rows."""
    header = ["drill", "mode", "requests", "statuses", "5xx", "p50 ms (added)",
              "p99 ms (added)", "max ms", "after the fault"]  # fmt: skip
    lines = [header, ["---"] * len(header)]
    for r in rows:
        lines.append([r.drill, r.mode, str(r.requests), r.statuses, str(r.errors_5xx),
                      r.p50_ms, r.p99_ms, r.max_ms, r.after])  # fmt: skip
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
