"""Conversation continuity probe: are a follow-up's assistant turns answers the gateway served?

``python -m loadtest.continuity_probe --split tuning --harvest red_solo_mimic ... --benign
tutoring_app ... [--named red_solo_mimic ...] [--as-sent]``

Drives the kit's scenarios offline, as ``structure_probe`` does, but answers every request
with the text the mock upstream would return (``gateway.mock``'s generator, its default seed
and 64-token length), and lets honest clients resend what they were served
(``loadtest.detection.continuity``, what the kit's runner does). ``--as-sent`` turns that off:
the kit before round 20b, where every honest history carries a stub.

Per account, over its multi-turn requests (at least one assistant text turn; tool calls are
not text) in time order across all accounts:

* ``own``: share whose assistant turns include one never served to this account before;
* ``any``: ... never served to any account before (a history copied from elsewhere);
* ``conv``: share of its conversations (first user turn) with such a request (``own``);
* ``fewshot``: ``own`` with turns left out whose text recurs in at least ``--recur``
  requests of the population (a template's fixed examples; requests left with no turn do
  not count).

Then the scenario means' ranges (harvest vs honest, do they overlap) and the account AUC,
for all harvest scenarios and for the ``--named`` ones alone.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.mock.bodies import compose
from gateway.mock.config import MockConfig, RequestHooks
from gateway.mock.params import BadRequest, CompletionParams
from loadtest.detection.context import Context
from loadtest.detection.continuity import ServedAnswers, resends_served
from loadtest.detection.evaluate import START
from loadtest.detection.pools import Split, load_pools
from loadtest.detection.scenarios import FULL, build
from loadtest.detection.traffic import Outcome, Request, Role
from loadtest.structure_probe import auc, ranges

STATS = ("own", "any", "conv", "fewshot")
_MOCK = MockConfig()
_HOOKS = RequestHooks.defaults(_MOCK)


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    account: str
    body: Mapping[str, Any]
    answer: str


@dataclass(frozen=True, slots=True)
class Probed:
    name: str
    scenario: str
    role: Role


def mock_answer(request: Request) -> str:
    """The text the kit's mock upstream answers ``request`` with (first choice)."""
    chat = request.path.endswith("/chat/completions")
    try:
        params = CompletionParams.parse(dict(request.body), chat)
    except BadRequest:
        return ""
    return compose(params, _HOOKS, _MOCK.seed).choices[0].generated.text


def run(
    split: Split, only: Iterable[str], limit: int, as_sent: bool = False, seed: int = 1
) -> tuple[list[Probed], list[Event]]:
    """Every account of the ``only`` scenarios (full plan) and what it sends, each request
    answered with the mock's text; honest clients resend it unless ``as_sent``."""
    pools = load_pools(split, (), ())
    ctx = Context(pools=pools, start=START, days=FULL.days, cap=FULL.cap, scale=FULL.scale)
    served = ServedAnswers()
    accounts: list[Probed] = []
    events: list[Event] = []
    for acc, fn in build(FULL, seed, frozenset(only)):
        accounts.append(Probed(acc.name, acc.scenario, acc.role))
        rewrite = resends_served(acc) and not as_sent
        behaviour = fn(acc, ctx)
        step = next(behaviour, None)
        for _ in range(limit):
            if step is None:
                break
            t, request = step
            if rewrite:
                request = served.resend(acc.name, request)
            answer = mock_answer(request)
            served.record(acc.name, request, answer)
            events.append(Event(t, acc.name, request.body, answer))
            try:
                step = behaviour.send(Outcome(status=200, answer=answer))
            except StopIteration:
                step = None
    events.sort(key=lambda e: e.t)  # stable: an account's own order is kept
    return accounts, events


def answer_turns(body: Mapping[str, Any]) -> list[str]:
    """The assistant text turns of a chat body (tool calls have no text)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    return [
        m["content"]
        for m in messages
        if isinstance(m, dict)
        and m.get("role") == "assistant"
        and isinstance(m.get("content"), str)
        and m["content"]
        and not m.get("tool_calls")
    ]


def _first_user(body: Mapping[str, Any]) -> str:
    for m in body.get("messages") or ():
        if isinstance(m, dict) and m.get("role") == "user":
            return str(m.get("content"))
    return ""


def measure(events: Sequence[Event], recur: int = 10) -> dict[str, dict[str, float]]:
    """Per account: the share of multi-turn requests (and conversations) with a turn never
    served to it / to anyone before, and ``own`` without turns recurring in ``recur``+
    requests (see the module docstring); nan when the account has no such request."""
    recurring = Counter(x for e in events for x in set(answer_turns(e.body)))
    common = {x for x, n in recurring.items() if n >= recur}
    mine: dict[str, set[str]] = defaultdict(set)
    everyone: set[str] = set()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    convs: dict[str, dict[str, bool]] = defaultdict(dict)
    for e in events:
        turns = answer_turns(e.body)
        if turns:
            c = counts[e.account]
            own = any(x not in mine[e.account] for x in turns)
            c["multi"] += 1
            c["own"] += own
            c["any"] += any(x not in everyone for x in turns)
            rare = [x for x in turns if x not in common]
            c["rare"] += bool(rare)
            c["fewshot"] += any(x not in mine[e.account] for x in rare)
            key = _first_user(e.body)
            convs[e.account][key] = convs[e.account].get(key, False) or own
        if e.answer:
            mine[e.account].add(e.answer)
            everyone.add(e.answer)
    out: dict[str, dict[str, float]] = {}
    for account, c in counts.items():
        multi = c["multi"]
        conv = convs[account]
        out[account] = {
            "multi": float(multi),
            "own": c["own"] / multi,
            "any": c["any"] / multi,
            "conv": sum(conv.values()) / len(conv),
            "fewshot": c["fewshot"] / c["rare"] if c["rare"] else float("nan"),
        }
    return out


def _mean(values: Iterable[float]) -> float:
    kept = [v for v in values if v == v]
    return statistics.fmean(kept) if kept else float("nan")


def _fmt(v: float) -> str:
    return "-" if v != v else f"{v:.2f}"


def table(
    accounts: Sequence[Probed], stats: Mapping[str, Mapping[str, float]], named: Sequence[str]
) -> list[str]:
    """Scenario means of multi-turn accounts (markdown), then per statistic the ranges of the
    scenario means and the account AUC (harvest above honest), all strategies and ``named``."""
    by: dict[tuple[str, str], list[Mapping[str, float]]] = defaultdict(list)
    for a in accounts:
        if a.name in stats:
            by[(a.role, a.scenario)].append(stats[a.name])
    means = {k: {s: _mean(r[s] for r in rs) for s in STATS} for k, rs in by.items()}
    lines = ["| role | scenario | accounts | multi-turn requests | " + " | ".join(STATS) + " |"]
    lines.append("|---|---|---:|---:|" + "---:|" * len(STATS))
    for (role, scenario), m in sorted(means.items()):
        n = int(sum(r["multi"] for r in by[(role, scenario)]))
        cells = " | ".join(_fmt(v) for v in m.values())
        lines.append(f"| {role} | {scenario} | {len(by[(role, scenario)])} | {n} | {cells} |")
    lines += [
        "",
        "| statistic | harvest range | honest range | separates | accounts (harvest/honest) "
        "| AUC all | AUC named |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    role = {a.name: a for a in accounts}
    for s in STATS:
        shown, verdict = ranges(means, s)
        values = [(role[n], v[s]) for n, v in stats.items() if v[s] == v[s]]
        honest = [v for a, v in values if a.role == "benign"]
        harvest = [v for a, v in values if a.role == "harvest"]
        every = auc(harvest, honest)
        some = auc([v for a, v in values if a.role == "harvest" and a.scenario in named], honest)
        counts = f"{len(harvest)}/{len(honest)}"
        lines.append(
            f"| {s} | {shown[0]} | {shown[1]} | {verdict} | {counts} | {every:.2f} | {some:.2f} |"
        )
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--split", choices=("tuning", "reporting"), default="tuning")
    p.add_argument("--harvest", nargs="+", required=True, help="harvest scenarios")
    p.add_argument("--benign", nargs="+", required=True, help="honest personas")
    p.add_argument("--named", nargs="*", default=(), help="harvest scenarios for 'AUC named'")
    p.add_argument("--limit", type=int, default=600, help="requests an account at most")
    p.add_argument("--recur", type=int, default=10, help="fewshot: a turn in this many requests")
    p.add_argument("--as-sent", action="store_true", help="honest clients resend their stubs")
    args = p.parse_args()
    accounts, events = run(args.split, [*args.harvest, *args.benign], args.limit, args.as_sent)
    stats = measure(events, args.recur)
    print("\n".join(table(accounts, stats, args.named)))
    print(f"\n{len(accounts)} accounts, {len(events)} requests, {len(stats)} with multi-turn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
