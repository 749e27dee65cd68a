"""The side-by-side harness of the Lua script benches (``bench_lua``, ``bench_values``,
``bench_observe``, ``bench_pair``, ``bench_meet``): two versions of a script ("sides": A from
another commit, B from this checkout) on one private redis-server, measured in alternating
rounds (A then B, then B then A, ...), so that a neighbour's load falls on both sides alike.

A bench brings its own workload, script text and arguments as a ``run(name, round_)``
callable returning one :class:`Sample` (its measurements and replies); this module runs the
rounds, keeps each side's measurements, the replies and (optionally) the keys left after the
side's first run, prints the per-side medians and B's median ratio to A, and compares the
sides' results: the exit status is 1 when they differ.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from loadtest.bench_procs import REPO, start_redis

T = TypeVar("T")
EVALSHA, CPU = "EVALSHA µs/call", "CPU µs/call"  # the labels of run_stream's measurements


def source(path: str, ref: str | None) -> str:
    """A file of the repository from this checkout (``ref`` None) or from commit ``ref``."""
    if ref is None:
        return (REPO / path).read_text(encoding="utf-8")
    command = ["git", "-C", str(REPO), "show", f"{ref}:{path}"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def ab_parser(prog: str, rounds: int, base: str = "main") -> argparse.ArgumentParser:
    """A bench's parser with the flags every side-by-side bench takes."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--base", default=base, help=f"commit of side A (default {base})")
    parser.add_argument("--rounds", type=int, default=rounds, help="alternating rounds")
    return parser


def load_sides(base: str, load: Callable[[str | None], T]) -> dict[str, T]:
    """Each side's loaded scripts by name: A's (``load(base)``, a commit) first, then B's
    (``load(None)``, this checkout)."""
    return {f"A ({base})": load(base), "B (this checkout)": load(None)}


@contextlib.contextmanager
def private_redis(prefix: str) -> Iterator[Any]:
    """A client of a private redis-server, stopped on the way out."""
    import redis

    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        proc, url = start_redis(Path(workdir))
        try:
            yield redis.Redis.from_url(url)
        finally:
            proc.stop()


def cpu(client: Any) -> float:
    """The server's CPU seconds so far."""
    info = client.info("cpu")
    return float(info["used_cpu_user"] + info["used_cpu_sys"])


def ratios(a: Sequence[float], b: Sequence[float]) -> float:
    """B's median per-round ratio to A."""
    return statistics.median(y / x for x, y in zip(a, b, strict=True))


def evalsha(sha: str) -> Callable[[Any, Sequence[Any]], None]:
    """A sender for :func:`pipelined`: the call (``numkeys, *keys, *argv``) as EVALSHA."""
    return lambda pipe, call: pipe.execute_command("EVALSHA", sha, *call)


def pipelined(
    client: Any, calls: Sequence[Any], send: Callable[[Any, Any], None], raise_on_error: bool
) -> list[Any]:
    """Every call sent by ``send(pipe, call)``, 50 to a pipeline (no transaction): the
    replies in order (errors as exceptions unless ``raise_on_error``)."""
    replies: list[Any] = []
    for start in range(0, len(calls), 50):
        pipe = client.pipeline(transaction=False)
        for call in calls[start : start + 50]:
            send(pipe, call)
        replies += pipe.execute(raise_on_error=raise_on_error)
    return replies


def run_stream(
    client: Any, calls: Sequence[Any], send: Callable[[Any, Any], None], scripts: int
) -> tuple[Sample, dict[str, Any]]:
    """The calls on a flushed server (statistics reset): EVALSHA's execution µs and the
    server's CPU µs per script call (``scripts`` of them), the replies, and the server's
    ``INFO commandstats`` after."""
    client.flushall()
    client.config_resetstat()
    before = cpu(client)
    replies = pipelined(client, calls, send, False)
    spent = (cpu(client) - before) * 1e6 / scripts
    stats: dict[str, Any] = client.info("commandstats")
    usec = stats["cmdstat_evalsha"]["usec"] / scripts
    return Sample({EVALSHA: usec, CPU: spent}, replies), stats


def keys_now(client: Any) -> dict[bytes, tuple[Any, ...]]:
    """Every key: type, value, encoding, memory usage, whether it has a TTL."""
    found: dict[bytes, tuple[Any, ...]] = {}
    for key in sorted(client.keys("*")):
        kind = client.type(key).decode()
        value: Any
        if kind == "hash":
            value = list(client.hgetall(key).items())  # field order included
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            value = client.get(key)
        usage = client.memory_usage(key)
        found[key] = (kind, value, client.object("encoding", key), usage, client.pttl(key) > 0)
    return found


def order(names: Sequence[str], round_: int) -> list[str]:
    """The sides' order in a round: as given in even rounds, reversed in odd ones."""
    return list(names) if round_ % 2 == 0 else list(names)[::-1]


@dataclass(frozen=True)
class Sample:
    """One side's run in one round: its measurements by label, and the replies."""

    metrics: Mapping[str, float]
    replies: list[Any] = field(default_factory=list)


@dataclass
class Side:
    """One side's record: each measurement per round (in round order), the replies of each
    round, and the keys its first run left (when the bench snapshots them)."""

    name: str
    metrics: dict[str, list[float]] = field(default_factory=dict)
    replies: list[list[Any]] = field(default_factory=list)
    keys: dict[Any, Any] | None = None

    def add(self, sample: Sample) -> None:
        for label, value in sample.metrics.items():
            self.metrics.setdefault(label, []).append(value)
        self.replies.append(sample.replies)

    def line(self, label: str) -> str:
        """``name: label median [per round]``."""
        values = self.metrics[label]
        rounded = ", ".join(f"{v:.1f}" for v in values)
        return f"{self.name}: {label} {statistics.median(values):.1f} [{rounded}]"


def measure(
    names: Sequence[str],
    rounds: int,
    run: Callable[[str, int], Sample],
    snapshot: Callable[[], dict[Any, Any]] | None = None,
) -> tuple[Side, Side]:
    """``rounds`` alternating rounds of both sides; ``snapshot`` (the server's keys) is taken
    right after each side's first run."""
    a, b = Side(names[0]), Side(names[1])
    by_name = {a.name: a, b.name: b}
    for round_ in range(rounds):
        for name in order(names, round_):
            side = by_name[name]
            side.add(run(name, round_))
            if snapshot is not None and side.keys is None:
                side.keys = snapshot()
    return a, b


def measure_stream(
    client: Any,
    shas: Mapping[str, str],
    rounds: int,
    calls: Sequence[Any],
    snapshot: Callable[[], dict[Any, Any]],
) -> tuple[Side, Side]:
    """:func:`measure` of each side's script (``shas``: A's, then B's) running the same
    ``calls`` by :func:`run_stream`, one EVALSHA each."""
    return measure(
        list(shas),
        rounds,
        lambda name, _: run_stream(client, calls, evalsha(shas[name]), len(calls))[0],
        snapshot,
    )


def ratio_line(a: Side, b: Side, shorts: Mapping[str, str], prefix: str = "") -> str:
    """``B/A per round: <short> median r, ...`` for each label in ``shorts`` (an empty short
    prints ``median r``)."""
    parts = [
        f"{short} median".lstrip() + f" {ratios(a.metrics[label], b.metrics[label]):.3f}"
        for label, short in shorts.items()
    ]
    return f"{prefix}B/A per round: " + ", ".join(parts)


def report(
    a: Side, b: Side, shorts: Mapping[str, str], extra: Callable[[Side], str] | None = None
) -> None:
    """Print each side's measurements (and its ``extra`` line), then B's ratios to A."""
    for side in (a, b):
        for label in shorts:
            print(side.line(label))
        if extra is not None:
            print(extra(side))
    print(ratio_line(a, b, shorts))


@dataclass(frozen=True)
class Identity:
    """Whether both sides' first-round replies and keys are identical, and how many of those
    replies were errors."""

    replies: bool
    keys: bool
    errors: int
    key_count: int

    @property
    def code(self) -> int:
        """The exit status: 0 when identical and free of errors, else 1."""
        return 0 if self.replies and self.keys and self.errors == 0 else 1

    def line(self, note: str = "") -> str:
        detail = f"errors: {self.errors}" + (f", {note}" if note else "")
        return (
            f"replies identical: {self.replies} ({detail}); "
            f"keys identical: {self.keys} ({self.key_count} keys)"
        )


def identity(a: Side, b: Side) -> Identity:
    """The sides' first-round results compared (both must have run and been snapshotted)."""
    if not a.replies or not b.replies or a.keys is None or b.keys is None:
        raise ValueError("identity needs a first round with keys on both sides")
    first_a, first_b = a.replies[0], b.replies[0]
    errors = sum(isinstance(r, Exception) for r in first_a + first_b)
    return Identity(first_a == first_b, a.keys == b.keys, errors, len(a.keys))


def replies_differ(a: Side, b: Side) -> int:
    """How many replies differ between the sides, over every round."""
    return sum(
        x != y
        for round_a, round_b in zip(a.replies, b.replies, strict=True)
        for x, y in zip(round_a, round_b, strict=True)
    )
