"""A closed-loop load generator for the overhead benchmark (its own process).

C workers share one keep-alive ``ClientSession``; each sends the next request as soon as its
last answer is read, until N requests are sent or S seconds have passed, whichever is first.
Bodies are encoded up front (varied real prompts, round-robin over many API keys), so the
generator spends its CPU on HTTP only. Prints one JSON object with throughput and latencies.

``python -m loadtest.loadgen --url http://127.0.0.1:8080/v1/chat/completions --keys KEYS
--concurrency 32 --requests 5000 --duration 10 [--stream]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector

MAX_BODIES = 2000


def load_corpus(kind: str, limit: int) -> list[str]:
    """Prompts of the project's corpus sample, or varied synthetic ones when it is absent."""
    prompts: list[str] = []
    if kind in ("benign", "harvest"):
        try:
            from loadtest.corpus import load_prompts

            found = load_prompts("benign" if kind == "benign" else "harvest")
            prompts = [p.text for p in found if p.text.strip()]
        except (ImportError, OSError, ValueError):
            prompts = []
    if prompts:
        step = max(1, len(prompts) // limit)  # spread over the files, not just the first
        return prompts[::step][:limit]
    topics = ("tides", "compilers", "bread", "volcanoes", "jazz", "taxes", "bees", "orbits")
    asks = (
        "Explain briefly how {} work.",
        "Write three tips about {}.",
        "What is a common misconception about {}?",
        "Summarise the history of {} in a line.",
    )
    return [
        asks[i % len(asks)].format(topics[i // len(asks) % len(topics)]) + f" (#{i})"
        for i in range(min(limit, 256))
    ]


def encode_bodies(prompts: list[str], model: str, max_tokens: int, stream: bool) -> list[bytes]:
    bodies = []
    for prompt in prompts:
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": prompt}],
        }
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        bodies.append(json.dumps(body).encode())
    return bodies


@dataclass
class Run:
    """What the workers share: the schedule and the measurements."""

    total: int
    deadline: float
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    first_bytes: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def take(self) -> int | None:
        if self.sent >= self.total or time.perf_counter() >= self.deadline:
            return None
        self.sent += 1
        return self.sent - 1


async def _worker(
    session: ClientSession,
    url: str,
    run: Run,
    bodies: list[bytes],
    headers: list[dict[str, str]],
    stream: bool,
) -> None:
    while (i := run.take()) is not None:
        start = time.perf_counter()
        try:
            async with session.post(
                url, data=bodies[i % len(bodies)], headers=headers[i % len(headers)]
            ) as response:
                if stream:
                    await response.content.readany()
                    run.first_bytes.append(time.perf_counter() - start)
                    async for _ in response.content.iter_any():
                        pass
                else:
                    await response.read()
                run.statuses[str(response.status)] += 1
        except (OSError, asyncio.TimeoutError) as exc:  # noqa: UP041 - both on 3.11
            run.statuses[type(exc).__name__] += 1
            continue
        run.latencies.append(time.perf_counter() - start)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def generate(
    url: str,
    keys: list[str],
    bodies: list[bytes],
    concurrency: int,
    requests: int,
    duration: float,
    stream: bool,
) -> dict[str, Any]:
    """Run the load and return its summary."""
    headers = [
        {"authorization": f"Bearer {k}", "content-type": "application/json"} for k in keys
    ] or [{"content-type": "application/json"}]
    connector = TCPConnector(limit=concurrency, ttl_dns_cache=None, keepalive_timeout=60)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=10)) as session:
        run = Run(total=requests, deadline=time.perf_counter() + duration)
        cpu0, start = time.process_time(), time.perf_counter()
        await asyncio.gather(
            *(_worker(session, url, run, bodies, headers, stream) for _ in range(concurrency))
        )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    ok = run.statuses.get("200", 0)
    return {
        "requests": run.sent,
        "ok": ok,
        "statuses": dict(run.statuses),
        "elapsed_s": round(elapsed, 3),
        "rps": round(run.sent / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(_percentile(run.latencies, 0.50) * 1000, 3),
        "p90_ms": round(_percentile(run.latencies, 0.90) * 1000, 3),
        "p99_ms": round(_percentile(run.latencies, 0.99) * 1000, 3),
        "ttfb_p50_ms": round(_percentile(run.first_bytes, 0.50) * 1000, 3),
        "loadgen_cpu_s": round(cpu, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("--keys", help="file with one API key a line (round-robin)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--corpus", default="benign")
    parser.add_argument("--offset", type=int, default=0, help="rotate the prompts (warm-up)")
    args = parser.parse_args(argv)
    keys = Path(args.keys).read_text().split() if args.keys else []
    prompts = load_corpus(args.corpus, MAX_BODIES)
    shift = args.offset % len(prompts)
    prompts = prompts[shift:] + prompts[:shift]
    bodies = encode_bodies(prompts, args.model, args.max_tokens, args.stream)
    coro = generate(
        args.url, keys, bodies, args.concurrency, args.requests, args.duration, args.stream
    )
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(coro)
    else:
        result = uvloop.run(coro)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
