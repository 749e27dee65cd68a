"""A ``gateway detect`` worker's side of the sighting stream on Redis: one consumer group
(``detect``) per shard, read in batches, acknowledged after they are applied, and the pending
entries of a dead consumer claimed.

* ``start``: the group is created on every shard (``XGROUP CREATE ... 0 MKSTREAM ENTRIESREAD
  0``): a group made after sightings were appended reads them too (nothing appended before the
  first worker started is lost), and counts what was trimmed before it as never read.
* ``read``: per shard, ``lua/read.lua``: ``XREADGROUP ... COUNT n ... >`` (not blocking: a
  Redis Cluster cannot read streams of several slots in one command), the stream's length,
  and the count of entries trimmed before the group read them. Every shard's script goes in
  one pipeline (one round trip; on a Redis Cluster, one call per shard), so a read returns
  one batch of all shards; when a shard gave its whole ``count``, :meth:`RedisSource.more`
  says so (a backlog: the worker reads again at once).
* ``ack``: ``XACK`` per shard, after the batch was applied, in one pipeline. A worker that
  dies before it acknowledges leaves its entries pending under its consumer name.
* ``claim``: ``XAUTOCLAIM`` of entries pending for longer than ``claim_idle`` seconds, whoever
  holds them (a dead worker, or a live one far slower than that: the apply side is idempotent
  per sighting id; the shards in one pipeline). Pending entries that were trimmed before
  anyone claimed them are counted as lost. After a full pass, the shard drops what the group
  has read and acknowledged (``lua/trim.lua``: ``XTRIM MINID`` at the oldest pending or last
  delivered entry; so the stream holds only the backlog, and ``MAXLEN`` bounds it when workers
  fall behind), and consumers that hold nothing and stayed quiet for ten claim periods are
  removed from the group (each restarted worker is a new ``<host>-<pid>``). A claimed entry
  too old to apply safely is the worker's to refuse (:mod:`gateway.sightings.worker`).

Trimmed before read (``gateway_detect_trimmed_total{shard}``): trimming only removes the
oldest entries, so when the group's last delivered entry is older than the stream's first,
the entries removed so far are those the group read plus those it never saw; ``read.lua``
adds their difference to a counter in the shard's slot (``keys.sightings_trimmed``) at that
read, atomically, and sets the group's entries-read to the entries removed (what Redis 7.2+
estimates itself there; 7.0 would keep counting only what it delivered). The counter is a
running total per shard, the same for every worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

from gateway.redis.batch import run_batch
from gateway.redis.client import RedisClient
from gateway.redis.errors import FAILURES, first_failure, store_error
from gateway.redis.keys import KeyBuilder
from gateway.redis.replies import text
from gateway.redis.scripts import ScriptRegistry
from gateway.sightings.metrics import DetectMetrics
from gateway.sightings.sink_redis import FIELD
from gateway.sightings.source import Entry

GROUP = "detect"
FORGET_AFTER = 10  # claim periods a consumer holding nothing may stay quiet, then it is removed


class RedisSource:
    def __init__(
        self,
        client: RedisClient,
        keys: KeyBuilder,
        metrics: DetectMetrics,
        *,
        shards: int,
        consumer: str,
        count: int = 512,
        claim_idle: float = 30.0,
        poll: float = 0.05,
    ) -> None:
        self._client = client
        self._streams = [keys.sightings(n) for n in range(shards)]
        self._trimmed_keys = [keys.sightings_trimmed(n) for n in range(shards)]
        self._metrics = metrics
        self.consumer = consumer
        self._count = count
        self._claim_idle_ms = max(1, int(claim_idle * 1000))
        self._poll = poll
        scripts = ScriptRegistry("gateway.sightings", ("read", "trim"))
        self._read, self._trim = scripts["read"], scripts["trim"]
        self._cursors = ["0-0"] * shards
        self._more = False

    async def start(self) -> None:
        for stream in self._streams:
            try:
                await self._client.xgroup_create(
                    stream, GROUP, id="0", mkstream=True, entries_read=0
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise store_error(exc, "sightings") from exc
            except FAILURES as exc:
                raise store_error(exc, "sightings") from exc

    async def read(self) -> list[Entry]:
        calls = [
            self._read.call(2, [stream, trimmed, GROUP, self.consumer, self._count])
            for stream, trimmed in zip(self._streams, self._trimmed_keys, strict=True)
        ]
        out: list[Entry] = []
        self._more = False
        for shard, (entries, length, trimmed) in enumerate(await self._batch(calls)):
            self._metrics.stream_length.labels(str(shard)).set(int(length))
            self._metrics.trimmed.labels(str(shard)).set(int(trimmed))
            self._more = self._more or len(entries) >= self._count
            out += _entries(shard, entries)
        return out

    def more(self) -> bool:
        return self._more

    async def claim(self) -> list[Entry]:
        idle, count = self._claim_idle_ms, self._count
        calls = [
            ("XAUTOCLAIM", stream, GROUP, self.consumer, idle, cursor, "COUNT", count)
            for stream, cursor in zip(self._streams, self._cursors, strict=True)
        ]
        out: list[Entry] = []
        passed: list[int] = []  # shards whose pending entries were all seen: tidy up
        for shard, reply in enumerate(await self._batch(calls)):
            out += self._claimed(shard, reply)
            if self._cursors[shard] == "0-0":
                passed.append(shard)
        try:
            await asyncio.gather(*(self._tidy(shard) for shard in passed))
        except FAILURES as exc:
            raise store_error(exc, "sightings") from exc
        return out

    def _claimed(self, shard: int, reply: Sequence[Any]) -> list[Entry]:
        cursor, claimed = reply[0], reply[1]
        deleted = reply[2] if len(reply) > 2 else []
        self._cursors[shard] = text(cursor)
        if deleted:
            self._metrics.lost.inc(len(deleted))
        found = [(text(i), fields) for i, fields in claimed if fields]
        entries = [Entry(f"{shard}:{i}", shard, i, _field(fields)) for i, fields in found]
        if entries:
            self._metrics.claimed.inc(len(entries))
        return entries

    async def _tidy(self, shard: int) -> None:
        await self._trim.run(self._client, 1, [self._streams[shard], GROUP])
        await self._forget_quiet_consumers(shard)

    async def _forget_quiet_consumers(self, shard: int) -> None:
        """Remove consumers that hold nothing and were idle for ``FORGET_AFTER`` claim
        periods (workers gone: every restart makes a new ``<host>-<pid>``)."""
        stream = self._streams[shard]
        for consumer in await self._client.xinfo_consumers(stream, GROUP):
            name = text(consumer["name"])
            quiet = int(consumer["idle"]) > FORGET_AFTER * self._claim_idle_ms
            if quiet and name != self.consumer and not int(consumer["pending"]):
                await self._client.xgroup_delconsumer(stream, GROUP, name)

    async def ack(self, entries: Sequence[Entry]) -> None:
        by_shard: dict[int, list[str]] = {}
        for entry in entries:
            by_shard.setdefault(entry.shard, []).append(entry.stream_id)
        calls = [("XACK", self._streams[shard], GROUP, *ids) for shard, ids in by_shard.items()]
        await self._batch(calls)

    async def wait(self, seconds: float) -> None:
        """Nothing was left to read: look again after ``poll`` seconds (at most ``seconds``)."""
        await asyncio.sleep(min(seconds, self._poll))

    async def pending(self) -> int:
        """Entries delivered to the group and not yet acknowledged (every consumer)."""
        try:
            replies = await asyncio.gather(
                *(self._client.xpending(stream, GROUP) for stream in self._streams)
            )
        except FAILURES as exc:
            raise store_error(exc, "sightings") from exc
        return sum(int(reply["pending"]) for reply in replies)

    def settled(self) -> bool:
        return False  # other gateways append at any time: only a read can tell

    async def _batch(self, calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``calls`` in one pipeline; their replies, or the first failure raised."""
        try:
            replies = await run_batch(self._client, calls, (self._read,))
        except FAILURES as exc:
            raise store_error(exc, "sightings") from exc
        failure = first_failure(replies, "sightings")
        if failure is not None:
            raise failure
        return replies


def _entries(shard: int, raw: Sequence[Any]) -> list[Entry]:
    out: list[Entry] = []
    for stream_id, fields in raw:
        sid = text(stream_id)
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        out.append(Entry(f"{shard}:{sid}", shard, sid, _field(values)))
    return out


def _field(fields: dict[Any, Any]) -> bytes:
    """The encoded sighting of an entry's fields (the keys come back as bytes)."""
    value = fields.get(FIELD.encode(), fields.get(FIELD, b""))
    return value if isinstance(value, bytes) else str(value).encode()
