"""The Redis server's side of the overhead benchmark: commands, round trips and CPU.

All three are server-wide counters (``INFO commandstats``, ``INFO stats``, ``INFO cpu``):
with a shared server every other client's work adds to them (``--own-redis`` gives a
private server, as ``make bench`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RedisSnapshot:
    commands: dict[str, int]  # command -> calls
    usec: dict[str, int]  # command -> µs the server spent executing it (scripts: with theirs)
    reads: int  # read events: about one per client round trip
    cpu_s: float  # used_cpu_sys + used_cpu_user of the server (main thread and others)


class RedisCounters:
    """Counters of the store the gateways use (a synchronous redis-py client)."""

    INFO_READS = 3  # read events of the INFO calls of one snapshot

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5)

    def snapshot(self) -> RedisSnapshot:
        stats: dict[str, Any] = self.client.info("commandstats")
        kept = {n.removeprefix("cmdstat_"): v for n, v in stats.items() if n != "cmdstat_info"}
        commands = {name: int(v["calls"]) for name, v in kept.items()}
        usec = {name: int(v["usec"]) for name, v in kept.items()}
        return RedisSnapshot(commands, usec, self.reads(), self.cpu())

    def reads(self) -> int:
        """Read events the server processed (``INFO stats``): one per client write it
        reads, so about one per round trip."""
        stats: dict[str, Any] = self.client.info("stats")
        return int(stats.get("total_reads_processed", 0))

    def cpu(self) -> float:
        """CPU seconds the server has used (user + system)."""
        info: dict[str, Any] = self.client.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])

    @staticmethod
    def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
        out = {k: v - before.get(k, 0) for k, v in after.items()}
        return {k: v for k, v in out.items() if v > 0}

    def remove_prefix(self, prefix: str) -> int:
        """Delete the benchmark's keys (every key whose name starts with ``prefix``)."""
        removed = 0
        batch: list[Any] = []
        for key in self.client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                removed += int(self.client.unlink(*batch))
                batch.clear()
        if batch:
            removed += int(self.client.unlink(*batch))
        return removed

    def close(self) -> None:
        self.client.close()
