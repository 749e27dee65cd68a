"""Results of the overhead benchmark and the tables that compare them (targets:
``loadtest.bench_targets``)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from loadtest.bench_worker import histogram_quantile

EVAL_COMMANDS = ("evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro")


@dataclass
class DetectSide:
    """What the ``gateway detect`` workers of one gateway did during a measured run (until
    they had caught up), and what the gateway appended or dropped."""

    worker_cpu_s: float
    applied: float  # gateway_detect_sightings_total
    appended: float  # gateway_sightings_appended_total (the gateway)
    dropped: float  # gateway_sightings_dropped_total (the gateway)
    trimmed: float  # gateway_detect_trimmed_total
    lag_buckets: dict[float, float] = field(default_factory=dict)  # le -> count (delta)
    batches: float = 0.0  # gateway_detect_batches_total

    def cpu_per_sighting_us(self) -> float | None:
        return self.worker_cpu_s / self.applied * 1e6 if self.applied else None

    def lag(self, q: float) -> float | None:
        return histogram_quantile({}, self.lag_buckets, q)

    @staticmethod
    def merge(sides: list[DetectSide]) -> DetectSide:
        buckets: dict[float, float] = {}
        for side in sides:
            for le, count in side.lag_buckets.items():
                buckets[le] = buckets.get(le, 0.0) + count
        return DetectSide(
            worker_cpu_s=sum(s.worker_cpu_s for s in sides),
            applied=sum(s.applied for s in sides),
            appended=sum(s.appended for s in sides),
            dropped=sum(s.dropped for s in sides),
            trimmed=sum(s.trimmed for s in sides),
            lag_buckets=buckets,
            batches=sum(s.batches for s in sides),
        )


@dataclass
class Result:
    """One measured scenario."""

    name: str
    stream: bool
    load: dict[str, Any]  # the load generator's summary
    proxy_cpu_s: float | None  # the proxy process (None: no proxy in front of the mock)
    mock_cpu_s: float
    redis: dict[str, int] | None = field(default=None)  # command -> calls during the run
    redis_usec: dict[str, int] | None = None  # command -> µs Redis spent executing it
    redis_reads: int | None = None  # read events of the server: ~ round trips
    worker_round_trips: int | None = None  # of the detect workers (their write calls)
    redis_cpu_s: float | None = None  # the server's CPU during the run (and the drain)
    detect: DetectSide | None = None
    background_dropped: float = 0.0  # the gateway's in-process off-path work it dropped

    @property
    def requests(self) -> int:
        return int(self.load["requests"])

    @property
    def rps(self) -> float:
        return float(self.load["rps"])

    @property
    def ok_share(self) -> float:
        return int(self.load["ok"]) / self.requests if self.requests else 0.0

    def per_request_us(self, seconds: float | None) -> float | None:
        if seconds is None or not self.requests:
            return None
        return seconds / self.requests * 1e6

    def redis_per_request(self, only: tuple[str, ...] | None = None) -> float | None:
        if self.redis is None or not self.requests:
            return None
        calls = sum(v for k, v in self.redis.items() if only is None or k in only)
        return calls / self.requests

    def round_trips_per_request(self, *, workers: bool = False) -> float | None:
        """The gateway's Redis round trips per request: the server's read events less the
        detect workers' round trips (``workers=True``: with them)."""
        if self.redis_reads is None or not self.requests:
            return None
        others = 0 if workers else self.worker_round_trips or 0
        return (self.redis_reads - others) / self.requests

    def label(self) -> str:
        return f"{self.name}{' [stream]' if self.stream else ''}"

    def line(self) -> str:
        proxy = self.per_request_us(self.proxy_cpu_s)
        cpu = f", proxy CPU {proxy:.0f} µs/req" if proxy is not None else ""
        redis = self.per_request_us(self.redis_cpu_s)
        cpu += f", Redis CPU {redis:.0f} µs/req" if redis is not None else ""
        others = {k: v for k, v in self.load["statuses"].items() if k != "200"}
        failed = f", not ok: {others}" if others else ""
        if self.background_dropped:
            failed += f", off-path work dropped: {self.background_dropped:.0f}"
        return (
            f"{self.label()}: {self.rps:.0f} req/s, p50 {self.load['p50_ms']:.2f} ms, "
            f"p99 {self.load['p99_ms']:.2f} ms, {self.load['ok']}/{self.requests} ok{cpu}{failed}"
        )

    def as_dict(self) -> dict[str, Any]:
        detect = self.detect
        return {
            "name": self.name,
            "stream": self.stream,
            **self.load,
            "proxy_cpu_us_per_req": self.per_request_us(self.proxy_cpu_s),
            "mock_cpu_us_per_req": self.per_request_us(self.mock_cpu_s),
            "redis_cpu_us_per_req": self.per_request_us(self.redis_cpu_s),
            "redis_commands_per_req": self.redis_per_request(),
            "redis_eval_per_req": self.redis_per_request(EVAL_COMMANDS),
            "redis_round_trips_per_req": self.round_trips_per_request(),
            "redis_round_trips_per_req_with_workers": self.round_trips_per_request(workers=True),
            "redis_commands": self.redis,
            "redis_commands_usec": self.redis_usec,
            "background_dropped": self.background_dropped,
            "worker_cpu_us_per_sighting": detect.cpu_per_sighting_us() if detect else None,
            "sightings_applied": detect.applied if detect else None,
            "sightings_appended": detect.appended if detect else None,
            "sightings_dropped": detect.dropped if detect else None,
            "sightings_trimmed": detect.trimmed if detect else None,
            "lag_p50_s": _finite(detect.lag(0.5)) if detect else None,
            "lag_p99_s": _finite(detect.lag(0.99)) if detect else None,
        }


def _finite(value: float | None) -> float | str | None:
    return "inf" if value is not None and math.isinf(value) else value


def _sum_or_none(values: list[Any]) -> Any:
    return None if any(v is None for v in values) else sum(values)


def merge_rounds(rounds: list[Result]) -> Result:
    """One result from several rounds of one scenario: counts and CPU add up, req/s is the
    total over the total time, latencies are the median round's."""
    first = rounds[0]
    elapsed = sum(float(r.load.get("elapsed_s", 0.0)) for r in rounds)
    statuses: dict[str, int] = {}
    for r in rounds:
        for code, count in r.load["statuses"].items():
            statuses[code] = statuses.get(code, 0) + int(count)
    load = {
        "requests": sum(r.requests for r in rounds),
        "ok": sum(int(r.load["ok"]) for r in rounds),
        "statuses": statuses,
        "elapsed_s": round(elapsed, 3),
        "rps": round(sum(r.requests for r in rounds) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": statistics.median(float(r.load["p50_ms"]) for r in rounds),
        "p99_ms": statistics.median(float(r.load["p99_ms"]) for r in rounds),
        "rounds": len(rounds),
    }
    redis = _sum_counts([r.redis for r in rounds])
    redis_usec = _sum_counts([r.redis_usec for r in rounds])
    sides = [r.detect for r in rounds if r.detect is not None]
    return Result(
        name=first.name,
        stream=first.stream,
        load=load,
        proxy_cpu_s=_sum_or_none([r.proxy_cpu_s for r in rounds]),
        mock_cpu_s=sum(r.mock_cpu_s for r in rounds),
        redis=redis,
        redis_usec=redis_usec,
        redis_reads=_sum_or_none([r.redis_reads for r in rounds]),
        worker_round_trips=_sum_or_none([r.worker_round_trips for r in rounds]),
        redis_cpu_s=_sum_or_none([r.redis_cpu_s for r in rounds]),
        background_dropped=sum(r.background_dropped for r in rounds),
        detect=DetectSide.merge(sides) if len(sides) == len(rounds) else None,
    )


def _sum_counts(counts: list[dict[str, int] | None]) -> dict[str, int] | None:
    if any(c is None for c in counts):
        return None
    out: dict[str, int] = {}
    for c in counts:
        for k, v in (c or {}).items():
            out[k] = out.get(k, 0) + v
    return out


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return ">max" if math.isinf(value) else f"{value:.{digits}f}"


COLUMNS = (
    ("scenario", 36),
    ("req/s", 8),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("ok/sent", 15),
    ("proxy µs/req", 13),
    ("Redis µs/req", 13),
    ("cmd/req", 8),
    ("rt/req", 7),
    ("+workers", 9),
    ("worker µs/sighting", 19),
    ("applied/req", 12),
    ("lag p50 s", 10),
    ("lag p99 s", 10),
)


def _table(results: list[Result]) -> list[str]:
    head = "".join(
        f"{name:<{width}}" if i == 0 else f"{name:>{width}}"
        for i, (name, width) in enumerate(COLUMNS)
    )
    rows = [head, "-" * len(head)]
    for r in results:
        d = r.detect
        cells = (
            r.label(),
            f"{r.rps:.0f}",
            f"{r.load['p50_ms']:.2f}",
            f"{r.load['p99_ms']:.2f}",
            f"{r.load['ok']}/{r.requests}",
            _num(r.per_request_us(r.proxy_cpu_s)),
            _num(r.per_request_us(r.redis_cpu_s)),
            _num(r.redis_per_request(), 2),
            _num(r.round_trips_per_request(), 2),
            _num(r.round_trips_per_request(workers=True) if r.worker_round_trips else None, 2),
            _num(d.cpu_per_sighting_us() if d else None),
            _num(d.applied / r.requests if d and r.requests else None, 2),
            _num(d.lag(0.5) if d else None, 3),
            _num(d.lag(0.99) if d else None, 3),
        )
        rows.append(
            "".join(
                f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True))
            )
        )
    return rows


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"x{a / b:.2f}"


def ratio_lines(results: list[Result], pairs: list[tuple[str, str, str]]) -> list[str]:
    found = {r.name: r for r in results if not r.stream}
    lines = []
    for title, top, bottom in pairs:
        a, b = found.get(top), found.get(bottom)
        if a is None or b is None:
            continue
        cpu = _ratio(a.per_request_us(a.proxy_cpu_s), b.per_request_us(b.proxy_cpu_s))
        lines.append(
            f"  {title:<34} req/s {_ratio(a.rps, b.rps):>7}   "
            f"p50 {_ratio(a.load['p50_ms'], b.load['p50_ms']):>7}   "
            f"p99 {_ratio(a.load['p99_ms'], b.load['p99_ms']):>7}   proxy CPU/req {cpu}"
        )
    return lines


def render_table(results: list[Result], shared_redis: bool = False) -> list[str]:
    """The comparison table, and each gateway's Redis commands per request."""
    out = _table(results)
    if any(r.worker_round_trips for r in results):
        out.append(
            "  (rt/req: the gateway's Redis round trips, the server's read events less the "
            "detect workers' write calls; +workers: with theirs)"
        )
    if shared_redis and any(r.redis is not None for r in results):
        out.append(
            "  (Redis counts and CPU are server-wide: other clients of that Redis add to them; "
            "--own-redis gives exact numbers)"
        )
    for r in results:
        if r.background_dropped:
            out.append(
                f"  {r.label()}: {r.background_dropped:.0f} pieces of off-path work (detection, "
                "linking) dropped by full in-process queues: their cost is missing from its CPU"
            )
    for r in results:
        if r.redis and not r.stream and r.requests:
            out.extend(command_table(r))
    return out


def command_table(r: Result, most: int = 14) -> list[str]:
    """Per command, calls and µs of Redis execution per request (``INFO commandstats``),
    dearest first. A script's µs include the commands it runs, which are also listed on their
    own: the rows overlap, and their sum is not the server's CPU (that adds reading, parsing
    and replying). Which script an EVALSHA ran: ``python -m loadtest.redis_profile``."""
    calls, usec = r.redis or {}, r.redis_usec or {}
    names = sorted(calls, key=lambda k: (-usec.get(k, 0), -calls[k]))
    out = [f"  Redis per request, {r.name} (µs: execution, a script's with its commands)"]
    out.append(f"    {'command':<22}{'calls/req':>10}{'µs/req':>9}{'µs/call':>9}")
    for name in names[:most]:
        n, spent = calls[name], usec.get(name, 0)
        out.append(
            f"    {name:<22}{n / r.requests:>10.2f}{spent / r.requests:>9.1f}{spent / n:>9.2f}"
        )
    rest = names[most:]
    if rest:
        n = sum(calls[k] for k in rest)
        spent = sum(usec.get(k, 0) for k in rest)
        out.append(
            f"    {f'{len(rest)} others':<22}{n / r.requests:>10.2f}{spent / r.requests:>9.1f}"
        )
    return out
