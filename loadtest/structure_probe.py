"""Structural evidence probe: does a per-account statistic separate harvesters from honest users?

``python -m loadtest.structure_probe --split tuning --harvest red8_code_explain ... --benign
tutoring_app ...``

Drives the kit's scenarios offline (no gateway: every request is answered 200, as
``redteam2.drive`` does, so a stream is what its behaviour sends when nothing stops it; at
most ``--limit`` requests an account) and prints, per scenario, the statistics behind the
candidate structural evidences of round 19 (issue 14), then for each statistic whether the
harvesters' scenario means and the honest ones overlap, and the account-level AUC:

* follow-ups: the single-turn share, the median wait before a follow-up (think time), the
  share of follow-ups whose text the account sent before in another conversation (a stock
  follow-up, independent of the answer), the content-word overlap of a follow-up with the
  conversation's first ask and with the assistant turns in its history (does it read the
  answer?);
* dataset-likeness: the mean cosine similarity of an account's first asks (the gateway's
  hashed n-gram embedder; one author's interests are self-similar) and their maximum mean
  discrepancy against a reference sample of every probed account's first asks (a replay of
  many people's prompts looks like the population);
* conversation identity across accounts: the share of an account's first asks that another
  probed account sent too.

Nothing here reads the gateway's answers (every request is answered without text, so honest
histories keep the personas' stubs); whether a history's assistant turns were served is
``loadtest.continuity_probe``'s (round 20b). Reading time against the answer's length
cannot be measured: the mock answers every request with about 64 tokens.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.fingerprints.embed import HashedNgramEmbedder
from loadtest.detection.context import Context
from loadtest.detection.evaluate import START
from loadtest.detection.pools import Split, load_pools
from loadtest.detection.redteam2 import drive
from loadtest.detection.scenarios import FULL, build
from loadtest.detection.traffic import Role

Stream = list[tuple[float, Mapping[str, Any]]]
Matrix = np.ndarray[Any, Any]
STATS = ("single", "wait", "stock", "ask_overlap", "answer_overlap", "self_sim", "mmd", "shared")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    scenario: str
    role: Role
    stream: Stream


def streams(split: Split, only: Iterable[str], limit: int, seed: int = 1) -> list[Account]:
    """Every account of the ``only`` scenarios (full plan) with what it sends, unanswered."""
    pools = load_pools(split, (), ())
    ctx = Context(pools=pools, start=START, days=FULL.days, cap=FULL.cap, scale=FULL.scale)
    out: list[Account] = []
    for acc, fn in build(FULL, seed, frozenset(only)):
        sent = [(t, request.body) for t, request in drive(acc, fn, ctx, limit)]
        out.append(Account(acc.name, acc.scenario, acc.role, sent))
    return out


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else ""


def turns(body: Mapping[str, Any], role: str) -> list[str]:
    """The texts of ``role``'s turns (a legacy completion's prompt is one user turn)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return [str(body.get("prompt", ""))] if role == "user" else []
    return [_text(m) for m in messages if isinstance(m, dict) and m.get("role") == role]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _overlap(follow: str, other: str) -> float:
    words = _words(follow)
    return len(words & _words(other)) / len(words) if words else 0.0


def first_asks(stream: Stream) -> list[str]:
    """The user turn of every single-turn request (a conversation's first ask)."""
    return [u[0] for _, body in stream if len(u := turns(body, "user")) == 1 and u[0]]


def follow_stats(stream: Stream) -> dict[str, float]:
    """Single-turn share and, over the follow-ups, the wait before them, the stock share,
    and the overlap with the first ask and with the assistant turns (nan: no follow-ups)."""
    waits: list[float] = []
    stock = ask = answer = 0.0
    seen: dict[str, str] = {}  # follow-up text -> the first ask it was first sent after
    follows = 0
    previous: float | None = None
    for t, body in stream:
        users = turns(body, "user")
        if len(users) > 1:
            follows += 1
            if previous is not None:
                waits.append(t - previous)
            last, first = users[-1], users[0]
            stock += float(seen.setdefault(last, first) != first)
            ask += _overlap(last, first)
            answer += _overlap(last, " ".join(turns(body, "assistant")))
        previous = t
    n = len(stream)
    nan = float("nan")
    return {
        "single": (n - follows) / n if n else nan,
        "wait": statistics.median(waits) if waits else nan,
        "stock": stock / follows if follows else nan,
        "ask_overlap": ask / follows if follows else nan,
        "answer_overlap": answer / follows if follows else nan,
    }


def _mean_off_diagonal(gram: Matrix) -> float:
    n = gram.shape[0]
    return float((gram.sum() - np.trace(gram)) / (n * (n - 1)))


def dataset_stats(vectors: Matrix, reference: Matrix) -> dict[str, float]:
    """Self-similarity of an account's first asks and their (biased, linear-kernel) MMD² to
    the reference sample."""
    self_sim = _mean_off_diagonal(vectors @ vectors.T)
    ref_sim = _mean_off_diagonal(reference @ reference.T)
    cross = float((vectors @ reference.T).mean())
    return {"self_sim": self_sim, "mmd": self_sim + ref_sim - 2.0 * cross}


def probe(
    accounts: Sequence[Account], asks: int = 100, reference: int = 2000
) -> list[dict[str, Any]]:
    """One row of statistics per account (accounts with fewer than 30 first asks: follow-up
    statistics only)."""
    embedder = HashedNgramEmbedder()
    senders: dict[str, set[str]] = defaultdict(set)
    firsts = {a.name: first_asks(a.stream) for a in accounts}
    for name, texts in firsts.items():
        for text in texts:
            senders[text].add(name)
    vectors = {
        name: np.stack([embedder.embed(x) for x in texts[:asks]]).astype(np.float64)
        for name, texts in firsts.items()
        if len(texts) >= 30
    }
    pooled = np.concatenate(list(vectors.values())) if vectors else np.zeros((0, 1))
    rng = random.Random(0)
    ref = pooled[rng.sample(range(len(pooled)), min(reference, len(pooled)))]
    rows: list[dict[str, Any]] = []
    for a in accounts:
        if not a.stream:
            continue
        row: dict[str, Any] = {"account": a.name, "scenario": a.scenario, "role": a.role}
        row.update(follow_stats(a.stream))
        distinct = set(firsts[a.name])
        row["shared"] = (
            sum(1 for x in distinct if len(senders[x]) > 1) / len(distinct)
            if distinct
            else float("nan")
        )
        if a.name in vectors and len(ref) > 1:
            row.update(dataset_stats(vectors[a.name], ref))
        rows.append(row)
    return rows


def _present(row: Mapping[str, Any], stat: str) -> bool:
    value = row.get(stat)
    return value is not None and value == value  # nan != nan


def _mean(values: Iterable[Any]) -> float:
    kept = [float(v) for v in values if v is not None and v == v]
    return statistics.fmean(kept) if kept else float("nan")


def ranges(
    means: Mapping[tuple[str, str], Mapping[str, float]], stat: str
) -> tuple[list[str], str]:
    """One statistic's range over the harvest and the honest scenarios' means (nan left out),
    shown as ``"lo .. hi"`` (``"-"``: no value), and whether the two ranges are apart."""
    spans: dict[str, tuple[float, float] | None] = {}
    for role in ("harvest", "benign"):
        vs = [m[stat] for (r, _), m in means.items() if r == role and m[stat] == m[stat]]
        spans[role] = (min(vs), max(vs)) if vs else None
    h, b = spans["harvest"], spans["benign"]
    apart = h is not None and b is not None and (h[1] < b[0] or b[1] < h[0])
    return [f"{x[0]:.2f} .. {x[1]:.2f}" if x else "-" for x in (h, b)], "yes" if apart else "no"


def auc(harvest: Sequence[float], honest: Sequence[float]) -> float:
    """P(a harvesting account's value > an honest account's), ties half: 0.5 is no
    separation, 0 or 1 a perfect one (nan when a side is empty)."""
    if not harvest or not honest:
        return float("nan")
    wins = sum((h > b) + 0.5 * (h == b) for h in harvest for b in honest)
    return wins / (len(harvest) * len(honest))


def table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Scenario means (markdown), then for each statistic the harvest and honest ranges of
    the scenario means and whether they overlap (a statistic that separates does not)."""
    by: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by[(r["role"], r["scenario"])].append(r)
    means = {k: {s: _mean(r.get(s) for r in rs) for s in STATS} for k, rs in by.items()}
    lines = ["| role | scenario | accounts | " + " | ".join(STATS) + " |"]
    lines.append("|---|---|---:|" + "---:|" * len(STATS))
    for (role, scenario), m in sorted(means.items()):
        cells = " | ".join("-" if v != v else f"{v:.2f}" for v in m.values())
        lines.append(f"| {role} | {scenario} | {len(by[(role, scenario)])} | {cells} |")
    lines += [
        "",
        "| statistic | harvest range | honest range | separates | AUC (accounts) |",
        "|---|---|---|---|---:|",
    ]
    for s in STATS:
        shown, verdict = ranges(means, s)
        score = auc(
            [float(r[s]) for r in rows if r["role"] == "harvest" and _present(r, s)],
            [float(r[s]) for r in rows if r["role"] == "benign" and _present(r, s)],
        )
        lines.append(f"| {s} | {shown[0]} | {shown[1]} | {verdict} | {score:.2f} |")
    return lines


def _logistic(x: Matrix, y: Matrix, steps: int = 400, rate: float = 0.5) -> Matrix:
    """Weights (bias last) of a class-balanced, lightly L2-regularised logistic regression."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    weight = np.where(y > 0, 0.5 / max(1.0, y.sum()), 0.5 / max(1.0, (1 - y).sum()))
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        w -= rate * (xb.T @ (weight * (p - y)) + 1e-3 * w)
    return w


def combined_auc(rows: Sequence[Mapping[str, Any]], stats: Sequence[str] = STATS) -> float:
    """The ``stats`` together: a logistic regression trained without one scenario scores
    that scenario's accounts (leave one scenario out), the AUC of all scores pooled. A
    missing statistic is the column's mean (a statistic no row has is left out); columns are
    standardised."""
    x = np.array([[float(r[s]) if _present(r, s) else np.nan for s in stats] for r in rows])
    x = x[:, ~np.all(np.isnan(x), axis=0)]  # a statistic no account has
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-9)
    y = np.array([1.0 if r["role"] == "harvest" else 0.0 for r in rows])
    scores = np.zeros(len(rows))
    for scenario in {r["scenario"] for r in rows}:
        out = np.array([r["scenario"] == scenario for r in rows])
        w = _logistic(x[~out], y[~out])
        scores[out] = x[out] @ w[:-1] + w[-1]
    scores = np.round(scores, 6)  # equal scores tie (rounding noise is no separation)
    return auc(list(scores[y > 0]), list(scores[y == 0]))


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--split", choices=("tuning", "reporting"), default="tuning")
    p.add_argument("--harvest", nargs="+", required=True, help="harvest scenarios")
    p.add_argument("--benign", nargs="+", required=True, help="honest personas")
    p.add_argument("--limit", type=int, default=600, help="requests an account at most")
    p.add_argument("--without", nargs="*", default=(), choices=STATS, help="left out of the fit")
    args = p.parse_args()
    accounts = streams(args.split, [*args.harvest, *args.benign], args.limit)
    rows = probe(accounts)
    print("\n".join(table(rows)))
    kept = [s for s in STATS if s not in args.without]
    together = combined_auc(rows, kept)
    print(f"\n{', '.join(kept)} together (leave one scenario out): AUC {together:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
