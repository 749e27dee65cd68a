"""Fingerprint cost per prompt size, on real corpus prompts (one core).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m loadtest.bench_fingerprint [--rounds 5]

Prompts of exactly N words (100, 500, 2000) are cut from real corpus prompts, consecutive
prompts joined by a blank line until N words are reached (original whitespace kept). Each
one is fingerprinted as a chat request body; the script prints, per prompt size, the wall
time (median, p99, mean) and the median CPU time of this thread (which a machine shared
with other busy processes inflates less). Budget: median <= 0.3 ms at 500 words.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported

import argparse
import re
import statistics
import time

from gateway.diversity.fingerprint import Fingerprinter
from loadtest.corpus import corpus_dir, load_prompts

SIZES = (100, 500, 2000)
_WORD = re.compile(r"\S+")


def prompts_of_size(texts: list[str], words: int, count: int) -> list[str]:
    """Up to ``count`` texts of exactly ``words`` words, cut from consecutive real prompts."""
    out: list[str] = []
    buf: list[str] = []
    have = 0
    for text in texts:
        buf.append(text)
        have += len(text.split())
        if have < words:
            continue
        joined = "\n\n".join(buf)
        ends = [m.end() for m in _WORD.finditer(joined)]
        out.append(joined[: ends[words - 1]])
        buf, have = [], 0
        if len(out) >= count:
            break
    return out


Row = tuple[float, float, float, float, int]  # median, p99, mean, cpu median (ms), prompts


def run(rounds: int, count: int) -> dict[int, Row]:
    texts = [p.text for p in load_prompts()]
    fp = Fingerprinter()
    results: dict[int, Row] = {}
    for size in SIZES:
        bodies = [
            {"model": "m", "messages": [{"role": "user", "content": t}]}
            for t in prompts_of_size(texts, size, count)
        ]
        for body in bodies[:20]:  # warm up
            fp.fingerprint(body, "chat")
        samples: list[float] = []
        cpu: list[float] = []
        for _ in range(rounds):
            for body in bodies:
                start, start_cpu = time.perf_counter(), time.thread_time()
                fp.fingerprint(body, "chat")
                cpu.append(time.thread_time() - start_cpu)
                samples.append(time.perf_counter() - start)
        samples.sort()
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        results[size] = (
            statistics.median(samples) * 1e3,
            p99 * 1e3,
            statistics.fmean(samples) * 1e3,
            statistics.median(cpu) * 1e3,
            len(bodies),
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=200, help="prompts per size")
    args = parser.parse_args()
    print(f"corpora: {corpus_dir()}  OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'words':>6} {'prompts':>8} {'median ms':>10} {'p99 ms':>8} {'mean ms':>8} {'cpu ms':>7}"
    )
    for size, (med, p99, mean, cpu, n) in run(args.rounds, args.count).items():
        print(f"{size:>6} {n:>8} {med:>10.3f} {p99:>8.3f} {mean:>8.3f} {cpu:>7.3f}")


if __name__ == "__main__":
    main()
