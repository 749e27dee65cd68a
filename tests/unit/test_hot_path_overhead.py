"""Per-request overhead: fingerprints only when needed, settlements batched per tick,
cheap request logs and metrics."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from gateway.apis import CHAT_COMPLETIONS
from gateway.background.tasks import Background
from gateway.clock import FakeClock
from gateway.fingerprints import fingerprint as fingerprint_module
from gateway.fingerprints import request as request_module
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.request import prompt_parts
from gateway.limiter.memory import MemoryBudgetStore
from gateway.model import BudgetSpec, Identity, Settlement
from gateway.observability.logging import BufferedLines, IsoTimestamp
from gateway.observability.metrics import Metrics
from gateway.policy.loader import LoadedPolicy, load_policy
from gateway.proxy import inspect as inspect_module
from gateway.proxy.context import RequestContext
from gateway.proxy.inspect import DetectionPrints, InspectStage, cell_need, client_stack
from gateway.proxy.planner import Planner
from gateway.proxy.settle import InFlightLeases, Settler
from gateway.redis.keys import KeyBuilder

BODY = {"model": "m", "messages": [{"role": "user", "content": "Explain tides in a line."}]}


def policy(tmp_path: Path, name: str, document: dict[str, Any]) -> LoadedPolicy:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **document}))
    return load_policy(path)


def test_cells_are_needed_only_by_diversity_budgets(
    tmp_path: Path,
) -> None:
    no_links = {"clusters": {"link_on": {"soft": ["ip_prefix"]}}}
    tiers: dict[str, Any] = {"free": {}, "internal": {}}
    quiet = policy(tmp_path, "quiet", {"tiers": tiers, "detection": {"enabled": False}, **no_links})
    per_tier = policy(
        tmp_path,
        "per_tier",
        {
            "tiers": tiers,
            **no_links,
            "detection": {"tiers": {"internal": {"enabled": False}}},
        },
    )
    diverse = policy(
        tmp_path,
        "diverse",
        {
            "tiers": {"free": {"diversity": {"novel": "50/day"}}, "internal": {}},
            "detection": {"enabled": False},
            **no_links,
        },
    )
    linking = policy(tmp_path, "linking", {"tiers": tiers, "detection": {"enabled": False}})
    current = [quiet]
    cell = cell_need(lambda: current[0])
    whole = lambda tier: current[0].compiled.needs_fingerprint(tier)  # noqa: E731
    free, internal = Identity("a", "free"), Identity("b", "internal")
    assert not cell(free) and not cell(internal) and not whole("free")
    current[0] = per_tier  # a new policy version is looked at again
    assert whole("free") and not whole("internal") and not cell(free)  # detection: after
    current[0] = diverse
    assert cell(internal) and not whole("internal")  # a diversity budget anywhere: always
    current[0] = linking
    assert whole("free") and not cell(free)  # template links are on by default


async def test_the_request_path_computes_only_the_cell_and_the_estimate(
    tmp_path: Path,
) -> None:
    """The inspect stage computes the budgets' part (the cell only when asked); the whole
    fingerprint comes after the response, and only when the policy needs it."""
    fingerprinter = Fingerprinter()
    full = InspectStage(fingerprinter, body_limit=1 << 20, route_prefix="/v1/")
    light = InspectStage(
        fingerprinter, body_limit=1 << 20, route_prefix="/v1/", needs_cell=lambda _: False
    )
    contexts = []
    for stage in (full, light):
        ctx = RequestContext(request_id="r", started=0.0, now=0.0, path=_Request.path)
        ctx.identity = Identity("a", "free")
        await stage.run(_Request(BODY), ctx)  # type: ignore[arg-type]
        contexts.append(ctx)
    a, b = (ctx.prompt for ctx in contexts)
    whole = fingerprinter.fingerprint(BODY, "chat")
    assert a is not None and b is not None and contexts[0].fingerprint is None
    assert b.est_tokens == a.est_tokens == whole.est_tokens > 0  # token budgets reserve it
    assert a.cell == whole.cell and b.cell is None
    assert contexts[0].features == contexts[1].features
    detecting = policy(tmp_path, "on", {"tiers": {"free": {}}})
    quiet = policy(
        tmp_path,
        "off",
        {
            "tiers": {"free": {}},
            "detection": {"enabled": False},
            "clusters": {"link_on": {"soft": ["ip_prefix"]}},
        },
    )
    assert DetectionPrints(fingerprinter, lambda: detecting)(contexts[0]) == whole
    estimate = DetectionPrints(fingerprinter, lambda: quiet)(contexts[0])
    assert estimate is not None and estimate.est_tokens == whole.est_tokens
    assert (estimate.exact, estimate.skeleton, estimate.frame) == (0, 0, 0)


async def test_linking_alone_gets_the_frame_print(tmp_path: Path) -> None:
    """Detection off, template links on: after the response only the frame is made (the
    whole fingerprint's frame), from the request path's skeleton."""
    fingerprinter = Fingerprinter()
    stage = InspectStage(fingerprinter, body_limit=1 << 20, route_prefix="/v1/")
    text = "Solve step by step, show your work:\nJanet has 3 apples and eats one.\nAnswer:"
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    ctx = RequestContext(request_id="r", started=0.0, now=0.0, path=_Request.path)
    ctx.identity = Identity("a", "free")
    await stage.run(_Request(body), ctx)  # type: ignore[arg-type]
    linking = policy(
        tmp_path,
        "links",
        {"tiers": {"free": {}}, "detection": {"enabled": False}},
    )
    whole = fingerprinter.fingerprint(body, "chat")
    got = DetectionPrints(fingerprinter, lambda: linking)(ctx)
    assert got is not None and whole.frame != 0
    assert (got.frame, got.est_tokens, got.cell) == (whole.frame, whole.est_tokens, whole.cell)
    assert (got.exact, got.skeleton, got.simhash, got.system) == (0, 0, 0, 0)


async def test_the_inspect_stage_reads_the_client_stack_into_the_features() -> None:
    stage = InspectStage(Fingerprinter(), body_limit=1 << 20, route_prefix="/v1/")
    request = _Request(BODY)
    request.headers = {"User-Agent": "OpenAI/Python 1.40.0", "X-Stainless-Lang": "python"}
    ctx = RequestContext(request_id="r", started=0.0, now=0.0, path=_Request.path)
    await stage.run(request, ctx)  # type: ignore[arg-type]
    assert ctx.features is not None and ctx.features.model == "m"
    assert ctx.features.client_stack == client_stack(request.headers) != 0


async def test_a_request_reads_its_prompt_parts_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Inspect stage (features, budgets' part) and the detection part after the response:
    one read of the body's prompt parts in all."""
    calls: list[str] = []

    def counted(body: object, endpoint: str) -> Any:
        calls.append(endpoint)
        return prompt_parts(body, endpoint)

    for module in (inspect_module, fingerprint_module, request_module):
        monkeypatch.setattr(module, "prompt_parts", counted)
    fingerprinter = Fingerprinter()
    stage = InspectStage(fingerprinter, body_limit=1 << 20, route_prefix="/v1/")
    hello = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    cut = [{"role": "assistant", "content": "Step 1:"}, {"role": "user", "content": "continue"}]
    body = {"model": "m", "messages": [*hello, {"role": "user", "content": "Explain tides."}, *cut]}
    ctx = RequestContext(request_id="r", started=0.0, now=0.0, path=_Request.path)
    ctx.identity = Identity("a", "free")
    await stage.run(_Request(body), ctx)  # type: ignore[arg-type]
    assert ctx.prompt_parts is not None and ctx.features is not None
    assert ctx.features.continued == 1 and ctx.features.opened == 1
    detecting = policy(tmp_path, "on", {"tiers": {"free": {}}})
    described = DetectionPrints(fingerprinter, lambda: detecting)(ctx)
    assert described is not None
    assert calls == ["chat"]
    monkeypatch.undo()
    assert described == fingerprinter.fingerprint(
        body, "chat", ctx.prompt_skeleton, ctx.prompt.cell if ctx.prompt else None
    )


class _Request:
    """What InspectStage reads of an aiohttp request."""

    method = "POST"
    path = "/v1/chat/completions"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, body: dict[str, Any]) -> None:
        self._data = json.dumps(body).encode()
        self.content_length = len(self._data)
        self.content = self

    async def iter_any(self) -> Any:
        yield self._data


class _Recording(MemoryBudgetStore):
    def __init__(self) -> None:
        super().__init__(FakeClock())
        self.batches: list[list[str]] = []

    def settle_soon(self, settlements: Sequence[Settlement]) -> asyncio.Future[Any] | None:
        return None

    async def settle_many(self, settlements: Sequence[Settlement]) -> None:
        self.batches.append([s.request_id for s in settlements])
        for s in settlements:
            await self.settle(s)


async def test_settlements_of_one_tick_go_to_the_store_together() -> None:
    store = _Recording()
    slot = BudgetSpec("c", "account", "concurrency", "concurrency", "k:c", limit=5, window=60)
    settler = Settler(store, Background(), InFlightLeases(), batcher=store)
    for i in range(3):
        ctx = RequestContext(request_id=f"r{i}", started=0.0, now=0.0)
        ctx.acquired, ctx.concurrency = True, (slot,)
        settler.finish(ctx)
    await asyncio.sleep(0.01)
    ctx = RequestContext(request_id="late", started=0.0, now=0.0)
    ctx.acquired, ctx.concurrency = True, (slot,)
    settler.finish(ctx)
    await asyncio.sleep(0.01)
    assert store.batches == [["r0", "r1", "r2"], ["late"]]


def test_request_counter_children_are_reused() -> None:
    metrics = Metrics()
    metrics.request_counter(200, "allow").inc()
    metrics.request_counter(200, "allow").inc()
    metrics.request_counter(429, "refuse").inc()
    assert metrics.request_counter(200, "allow") is metrics.request_counter(200, "allow")
    text = metrics.render().decode()
    assert 'gateway_requests_total{decision="allow",status="200"} 2.0' in text
    assert 'gateway_requests_total{decision="refuse",status="429"} 1.0' in text


async def test_request_lines_are_buffered_briefly_warnings_are_not() -> None:
    stream = io.StringIO()
    lines = BufferedLines(stream, interval=0.05)
    lines.info('{"event": "request"}')
    lines.info('{"event": "request"}')
    assert stream.getvalue() == ""
    lines.warning('{"event": "store_down"}')  # flushes everything, in order
    assert stream.getvalue().splitlines() == ['{"event": "request"}'] * 2 + [
        '{"event": "store_down"}'
    ]
    lines.info('{"event": "late"}')
    await asyncio.sleep(0.1)  # the timer flushes
    assert stream.getvalue().splitlines()[-1] == '{"event": "late"}'
    lines.info('{"event": "last"}')
    lines.flush()  # at exit
    assert stream.getvalue().splitlines()[-1] == '{"event": "last"}'


def test_iso_timestamps() -> None:
    stamp = IsoTimestamp()(None, "info", {})["timestamp"]
    assert len(stamp) == len("2026-01-02T03:04:05.678901Z") and stamp.endswith("Z")
    assert stamp[10] == "T" and stamp[19] == "."


def test_remembered_plans_bind_like_fresh_ones(tmp_path: Path) -> None:
    """The compiled policy remembers each account's bound plan; a remembered plan equals
    one planned from a freshly compiled copy of the same policy."""
    loaded = policy(
        tmp_path,
        "p",
        {
            "tiers": {"free": {"requests": "10/minute"}},
            "clusters": {"budgets": {"free": {"requests": "50/minute"}}},
        },
    )
    keys = KeyBuilder("t")
    planner = Planner(keys, shadow=False)
    for cluster, size in (("a", 1), ("a", 1), ("org", 2)):
        ctx = RequestContext(request_id="r", started=0.0, now=0.0, path="/v1/chat/completions")
        ctx.identity, ctx.tier, ctx.cluster_id, ctx.cluster_size = (
            Identity("a", "free"),
            "free",
            cluster,
            size,
        )
        fresh = load_policy(loaded.sources)
        assert planner.plan(loaded, ctx) == planner.plan(fresh, ctx)
    memo = loaded.compiled._memo.values()
    keys_bound = {spec.key for plan in memo if hasattr(plan, "specs") for spec in plan.specs}
    assert any("{c:org}" in k for k in keys_bound) and any("{c:a}" in k for k in keys_bound)


async def test_observers_get_the_whole_fingerprint_after_the_tick() -> None:
    """The settle stage fingerprints served requests at the end of the tick (after the
    responses), all of that tick's at once, and hands the observers the whole fingerprint."""
    fingerprinter = Fingerprinter()
    seen: list[tuple[str, Any]] = []
    described: list[str] = []

    class Observer:
        def submit(self, identity: Identity, *args: Any, stored: int = 0) -> None:
            seen.append((identity.account_id, args[2]))

    def describe(ctx: RequestContext) -> Any:
        described.append(ctx.request_id)
        assert ctx.payload is not None
        return fingerprinter.fingerprint(ctx.payload, ctx.endpoint)

    settler = Settler(MemoryBudgetStore(FakeClock()), Background(), InFlightLeases(),
                      observers=(Observer(),), describe=describe)  # fmt: skip
    for i in range(2):
        ctx = RequestContext(request_id=f"r{i}", started=0.0, now=0.0, api=CHAT_COMPLETIONS)
        ctx.identity, ctx.payload, ctx.upstream_status = Identity(f"a{i}", "free"), BODY, 200
        ctx.features = fingerprinter.features(BODY, "chat")
        settler.finish(ctx)
    refused = RequestContext(request_id="x", started=0.0, now=0.0, api=CHAT_COMPLETIONS)
    refused.identity, refused.payload, refused.upstream_status = Identity("b", "free"), BODY, 429
    settler.finish(refused)  # never served: not observed
    assert described == [] and seen == []  # nothing on the request path
    await asyncio.sleep(0)
    assert described == ["r0", "r1"]
    whole = fingerprinter.fingerprint(BODY, "chat")
    assert seen == [("a0", whole), ("a1", whole)]
