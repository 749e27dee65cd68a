"""Results of the overhead benchmark and the table that compares them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

EVAL_COMMANDS = ("evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro")


@dataclass
class Result:
    """One measured scenario."""

    name: str
    stream: bool
    load: dict[str, Any]  # the load generator's summary
    proxy_cpu_s: float | None  # the proxy process (None: no proxy in front of the mock)
    mock_cpu_s: float
    redis: dict[str, int] | None = field(default=None)  # command -> calls during the run
    redis_reads: int | None = None  # read events of the server: ~ round trips

    @property
    def requests(self) -> int:
        return int(self.load["requests"])

    @property
    def rps(self) -> float:
        return float(self.load["rps"])

    def per_request_us(self, seconds: float | None) -> float | None:
        if seconds is None or not self.requests:
            return None
        return seconds / self.requests * 1e6

    def redis_per_request(self, only: tuple[str, ...] | None = None) -> float | None:
        if self.redis is None or not self.requests:
            return None
        calls = sum(v for k, v in self.redis.items() if only is None or k in only)
        return calls / self.requests

    def round_trips_per_request(self) -> float | None:
        if self.redis_reads is None or not self.requests:
            return None
        return self.redis_reads / self.requests

    def label(self) -> str:
        return f"{self.name}{' [stream]' if self.stream else ''}"

    def line(self) -> str:
        proxy = self.per_request_us(self.proxy_cpu_s)
        cpu = f", proxy CPU {proxy:.0f} µs/req" if proxy is not None else ""
        others = {k: v for k, v in self.load["statuses"].items() if k != "200"}
        failed = f", not ok: {others}" if others else ""
        return (
            f"{self.label()}: {self.rps:.0f} req/s, p50 {self.load['p50_ms']:.2f} ms, "
            f"p99 {self.load['p99_ms']:.2f} ms, {self.load['ok']}/{self.requests} ok{cpu}{failed}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stream": self.stream,
            **self.load,
            "proxy_cpu_us_per_req": self.per_request_us(self.proxy_cpu_s),
            "mock_cpu_us_per_req": self.per_request_us(self.mock_cpu_s),
            "redis_commands_per_req": self.redis_per_request(),
            "redis_eval_per_req": self.redis_per_request(EVAL_COMMANDS),
            "redis_round_trips_per_req": self.round_trips_per_request(),
            "redis_commands": self.redis,
        }


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
    redis: dict[str, int] | None = None
    if all(r.redis is not None for r in rounds):
        redis = {}
        for r in rounds:
            for k, v in (r.redis or {}).items():
                redis[k] = redis.get(k, 0) + v
    reads = [r.redis_reads for r in rounds]
    return Result(
        name=first.name,
        stream=first.stream,
        load=load,
        proxy_cpu_s=None
        if any(r.proxy_cpu_s is None for r in rounds)
        else sum(r.proxy_cpu_s or 0.0 for r in rounds),
        mock_cpu_s=sum(r.mock_cpu_s for r in rounds),
        redis=redis,
        redis_reads=None if any(x is None for x in reads) else sum(x or 0 for x in reads),
    )


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(results: list[Result]) -> list[str]:
    head = (
        f"{'scenario':<34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'ok/sent':>16}"
        f"{'proxy µs/req':>14}{'mock µs/req':>13}{'redis cmd/req':>15}{'evalsha/req':>13}"
        f"{'round trips/req':>17}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(
            f"{r.label():<34}{r.rps:>8.0f}{r.load['p50_ms']:>9.2f}{r.load['p99_ms']:>9.2f}"
            f"{str(r.load['ok']) + '/' + str(r.requests):>16}"
            f"{_num(r.per_request_us(r.proxy_cpu_s)):>14}{_num(r.per_request_us(r.mock_cpu_s)):>13}"
            f"{_num(r.redis_per_request(), 2):>15}{_num(r.redis_per_request(EVAL_COMMANDS), 2):>13}"
            f"{_num(r.round_trips_per_request(), 2):>17}"
        )
    return rows


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"x{a / b:.2f}"


def _ratios(results: list[Result]) -> list[str]:
    found = {r.name: r for r in results if not r.stream}
    pairs = [
        ("minimal proxy / direct", "minimal aiohttp proxy", "mock upstream directly"),
        ("budgets only / minimal", "gateway (budgets only)", "minimal aiohttp proxy"),
        ("every budget kind / minimal", "gateway (every budget kind)", "minimal aiohttp proxy"),
        ("detection off / minimal", "gateway (detection off)", "minimal aiohttp proxy"),
        ("detection on / minimal", "gateway (detection on)", "minimal aiohttp proxy"),
        ("detection on / off", "gateway (detection on)", "gateway (detection off)"),
    ]
    lines = []
    for title, top, bottom in pairs:
        a, b = found.get(top), found.get(bottom)
        if a is None or b is None:
            continue
        cpu = _ratio(a.per_request_us(a.proxy_cpu_s), b.per_request_us(b.proxy_cpu_s))
        lines.append(
            f"  {title:<28} req/s {_ratio(a.rps, b.rps):>7}   "
            f"p50 {_ratio(a.load['p50_ms'], b.load['p50_ms']):>7}   "
            f"p99 {_ratio(a.load['p99_ms'], b.load['p99_ms']):>7}   proxy CPU/req {cpu}"
        )
    return lines


TARGET_RATIO = 0.5
"""Issue 3: the gateway with auth and account, cluster, model and concurrency budgets on
Redis (``budgets only``) serves at least half the requests/s of the minimal proxy, in one
Redis round trip per request or fewer."""


def target_lines(results: list[Result], round_ratios: list[float] | None = None) -> list[str]:
    """The verdict on the target; with rounds, on the median of the rounds' ratios."""
    found = {r.name: r for r in results if not r.stream}
    gateway, minimal = found.get("gateway (budgets only)"), found.get("minimal aiohttp proxy")
    if gateway is None or minimal is None or not minimal.rps:
        return []
    ratio = statistics.median(round_ratios) if round_ratios else gateway.rps / minimal.rps
    trips = gateway.round_trips_per_request()
    lines = []
    if round_ratios:
        shown_rounds = ", ".join(f"{r:.2f}" for r in round_ratios)
        lines.append(
            f"budgets only / minimal, per round (alternating, both running): {shown_rounds}; "
            f"median {ratio:.2f}"
        )
    verdict = "met" if ratio >= TARGET_RATIO and (trips is None or trips <= 1) else "NOT met"
    shown = "-" if trips is None else f"{trips:.2f}"
    lines.append(
        f"target (budgets only / minimal proxy >= {TARGET_RATIO}, <= 1 Redis round trip "
        f"per request): {ratio:.2f}, {shown} round trips/req: {verdict}"
    )
    return lines


def render(
    results: list[Result], shared_redis: bool = False, round_ratios: list[float] | None = None
) -> str:
    """The comparison table, the ratios and the gateway's Redis commands."""
    out = _table(results)
    if shared_redis and any(r.redis is not None for r in results):
        out.append(
            "  (Redis counts are server-wide: other clients of that Redis add to them; "
            "--own-redis gives exact counts)"
        )
    ratios = _ratios(results)
    if ratios:
        out += ["", "ratios (non-streaming):", *ratios]
    out += target_lines(results, round_ratios)
    for r in results:
        if r.redis and not r.stream and r.requests:
            top = sorted(r.redis.items(), key=lambda kv: -kv[1])[:8]
            shown = ", ".join(f"{k} {v / r.requests:.2f}" for k, v in top)
            out.append(f"  redis per request, {r.name}: {shown}")
    return "\n".join(out)
