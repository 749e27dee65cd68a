"""Fingerprint cost per prompt size, on real corpus prompts (one core), and where it goes.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m loadtest.bench_fingerprint [--rounds 5]

Prompts of exactly N words (100, 500, 2000) are cut from real corpus prompts, consecutive
prompts joined by a blank line until N words are reached (original whitespace kept). Each
one is read as a chat request body, in its two parts:

* the request-path part (``Fingerprinter.budget_print``: the token estimate and the novelty
  cell, what the budgets charge), computed before the budget check;
* the detection part (``Fingerprinter.fingerprint``: the whole fingerprint that detection
  and linking read), computed after the response (it costs CPU, not latency), from the
  prompt parts, the skeleton and the novelty cell the request path made, as the gateway
  does;
* for comparison, the whole fingerprint alone (no skeleton given).

Per part and prompt size: the wall time (median, p99, mean) and the median CPU time of this
thread (which a machine shared with other busy processes inflates less). Then the median
cost of each stage of the whole fingerprint side by side (a second pass that runs the
stages one by one with a timer between them; its result must equal
``Fingerprinter.fingerprint``'s, or the script fails), and the verdict on the target: the
request-path part's median <= 0.1 ms at 500 words.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported

import argparse
import itertools
import re
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from gateway.fingerprints.fingerprint import SYSTEM_LEXICON_CHARS, Fingerprinter, system_hash
from gateway.fingerprints.frame import body_segment, frame_hash, sentence_frame
from gateway.fingerprints.hashing import hash_sequence
from gateway.fingerprints.request import prompt_parts
from gateway.fingerprints.simhash import bands, ngram_simhash
from gateway.fingerprints.skeleton import premask_spans
from gateway.model import Fingerprint
from loadtest.corpus import corpus_dir, load_prompts

SIZES = (100, 500, 2000)
BUDGET_WORDS = 500
BUDGET_MS = 0.1  # the request-path part
STAGES = (
    "request",  # body -> last user turn, system prompt, token estimate
    "premask",  # NFKC, cap, literal spans (code, URLs, e-mails, quotes)
    "tokenize",  # code points -> token spans, hashes, flags, exact hash
    "reveal",  # encoded spans, look-alike letters looked for (the plain text read again)
    "skeleton",  # literal masks, runs collapsed
    "frame",  # body segment and frame hash
    "simhash",  # word 1-2-gram SimHash and bands
    "lexicon",  # elicitation terms (and the sentence frame)
    "products",  # distillation-product terms (data, soft labels, programs, corrections)
    "embed",  # hashed n-gram vector
    "cell",  # hyperplane projection -> cell
    "rest",  # skeleton hash, system hash, Fingerprint
)
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


def staged(
    fp: Fingerprinter, body: Mapping[str, object], clock: Callable[[], int]
) -> tuple[Fingerprint, list[int]]:
    """``fp.fingerprint(body, "chat")`` stage by stage: (result, nanoseconds per stage).

    Mirrors ``Fingerprinter.fingerprint_text``; ``run`` checks that the results agree.
    """
    marks = [clock()]
    parts = prompt_parts(body, "chat")
    text, system = parts.last_user, parts.system
    marks.append(clock())
    skz = fp.skeletonizer
    prepared = skz.prepare(text)
    spans = premask_spans(prepared)
    marks.append(clock())
    tokens = skz.tokenize_prepared(prepared, spans)
    marks.append(clock())
    plain = fp.revealer.reveal(tokens)
    if plain is not None:  # encoded or look-alike text: its plain text is fingerprinted
        text = plain
        prepared = skz.prepare(text)
        tokens = skz.tokenize_prepared(prepared, premask_spans(prepared))
    marks.append(clock())
    sk = skz.from_tokens(tokens)
    marks.append(clock())
    segment = body_segment(sk)
    frame = frame_hash(sk, segment)
    select = segment if frame else None
    marks.append(clock())
    sim = ngram_simhash(sk.hashes)
    sim_bands = bands(sim)
    marks.append(clock())
    elicit = fp.lexicon.match_tokens(tokens)
    if not frame and elicit.anchor >= 0:
        frame = sentence_frame(sk, elicit.anchor)
    terms, system_score = elicit.terms, 0.0
    if system:
        extra = fp.lexicon.score(system[:SYSTEM_LEXICON_CHARS])
        if extra.terms:
            system_score = extra.score
            terms = fp.lexicon.combine(elicit.terms + extra.terms).terms
    marks.append(clock())
    product = fp.products.match_tokens(tokens)
    marks.append(clock())
    vector = fp.embedding(sk, select)
    marks.append(clock())
    cell = fp.cells.cell(vector)
    marks.append(clock())
    words = len(tokens)
    if len(text) > skz.max_chars:
        words = round(words * len(text) / skz.max_chars)
    result = Fingerprint(
        exact=tokens.exact,
        skeleton=hash_sequence(sk.hashes) if len(sk) else 0,
        simhash=sim,
        bands=sim_bands,
        cell=cell,
        system=system_hash(system),
        words=words,
        est_tokens=parts.est_tokens,
        elicitation=elicit.score,
        elicitation_terms=terms,
        frame=frame,
        system_elicitation=system_score,
        product=product.score,
    )
    marks.append(clock())
    return result, [b - a for a, b in itertools.pairwise(marks)]


Row = tuple[float, float, float, float, int]  # median, p99, mean, cpu median (ms), prompts


def _timed(call: Callable[[], object], rounds: int, bodies: int) -> Row:
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds * bodies):
        start, start_cpu = time.perf_counter(), time.thread_time()
        call()
        cpu.append(time.thread_time() - start_cpu)
        samples.append(time.perf_counter() - start)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return (
        statistics.median(samples) * 1e3,
        p99 * 1e3,
        statistics.fmean(samples) * 1e3,
        statistics.median(cpu) * 1e3,
        bodies,
    )


def run(rounds: int, count: int) -> tuple[dict[tuple[str, int], Row], dict[int, list[float]]]:
    """Per (part, size): the timing row; per size the median microseconds of each stage."""
    texts = [p.text for p in load_prompts()]
    fp = Fingerprinter()
    results: dict[tuple[str, int], Row] = {}
    stages: dict[int, list[float]] = {}
    for size in SIZES:
        bodies = [
            {"model": "m", "messages": [{"role": "user", "content": t}]}
            for t in prompts_of_size(texts, size, count)
        ]
        for body in bodies[:20]:  # warm up
            fp.fingerprint(body, "chat")
            fp.budget_print(body, "chat", cell=True)
        # the detection part reuses the prompt parts, skeleton and cell the request path made
        # (as the gateway does)
        made = [
            (
                body,
                (read := prompt_parts(body, "chat")),
                fp.budget_part(body, "chat", cell=True, parts=read),
            )
            for body in bodies
        ]
        parts: dict[str, Callable[[tuple[Mapping[str, object], Any, Any]], object]] = {
            "request path": lambda made: fp.budget_part(made[0], "chat", cell=True),
            "detection": lambda made: fp.fingerprint(
                made[0], "chat", made[2].skeleton, made[2].print.cell, parts=made[1]
            ),
            "whole, alone": lambda made: fp.fingerprint(made[0], "chat"),
        }
        for part, call in parts.items():
            cycle = itertools.cycle(made)
            results[part, size] = _timed(lambda c=call, b=cycle: c(next(b)), rounds, len(made))
        per_stage: list[list[int]] = [[] for _ in STAGES]
        for _ in range(rounds):
            for body in bodies:
                got, times = staged(fp, body, time.perf_counter_ns)
                if got != fp.fingerprint(body, "chat"):
                    raise SystemExit("stage breakdown out of sync with Fingerprinter.fingerprint")
                for acc, ns in zip(per_stage, times, strict=True):
                    acc.append(ns)
        stages[size] = [statistics.median(acc) / 1e3 for acc in per_stage]
    return results, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=200, help="prompts per size")
    args = parser.parse_args()
    print(f"corpora: {corpus_dir()}  OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results, stages = run(args.rounds, args.count)
    head = f"{'median ms':>10} {'p99 ms':>8} {'mean ms':>8} {'cpu ms':>7}"
    print(f"{'part':>13} {'words':>6} {'prompts':>8} {head}")
    for (part, size), (med, p99, mean, cpu, n) in results.items():
        print(f"{part:>13} {size:>6} {n:>8} {med:>10.3f} {p99:>8.3f} {mean:>8.3f} {cpu:>7.3f}")
    print("\nthe whole fingerprint alone, median cost per stage, microseconds (stages timed one")
    print("by one; the detection part skips premask, tokenize, skeleton, embed and cell, and")
    print("makes the exact hash from the characters the request path's tokenisation kept):")
    print(f"{'stage':>10} " + " ".join(f"{f'{s} words':>11}" for s in stages))
    for i, name in enumerate(STAGES):
        print(f"{name:>10} " + " ".join(f"{row[i]:>11.1f}" for row in stages.values()))
    print(f"{'sum':>10} " + " ".join(f"{sum(row):>11.1f}" for row in stages.values()))
    median = results["request path", BUDGET_WORDS][0]
    verdict = "PASS" if median <= BUDGET_MS else "FAIL"
    print(
        f"\ntarget: request-path part median <= {BUDGET_MS} ms at {BUDGET_WORDS} words: "
        f"{median:.3f} ms -> {verdict}"
    )


if __name__ == "__main__":
    main()
