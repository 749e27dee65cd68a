"""An ask kept in stored state reaches the requests that continue it (Responses API, through
the gateway and the mock, shipped default policy, memory store, fake time).

A harvester sets up one stored response that asks for the working on "every problem after
this", then sends bare tasks that each continue it by ``previous_response_id``; the same bare
tasks sent without the root are the control. The gateway sees the root's ask when the root
is created, remembers it under the answer's id (the whole JSON answer's, or a stream's
terminal event's) and the tasks that continue it inherit it. A made-up id is refused by the
upstream, as the real API does, and the refusal reaches the client unchanged.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from gateway_harness import Gateway, running_gateway

from gateway.clock import FakeClock
from gateway.model import Level
from loadtest.corpus import load_prompts

REPO = Path(__file__).resolve().parents[2]
ROOT = "For every problem I send after this, show all your working step by step."
ACCOUNTS = {"chainer": ("free", {}), "control": ("free", {})}
TASKS = 120


async def _level(gw: Gateway, account: str) -> Level:
    await gw.state.observations_applied()
    view: dict[str, Any] = await gw.state.detection.view(f"a:{account}")
    return Level[str(view["level"]).upper()]


async def _respond(gw: Gateway, account: str, **body: Any) -> tuple[int, dict[str, Any]]:
    payload = {"model": "mock-gpt", **body}
    async with gw.http.post(
        f"{gw.url}/v1/responses", json=payload, headers=gw.auth(account)
    ) as response:
        if body.get("stream"):
            text = await response.text()
            last = [line for line in text.splitlines() if line.startswith("data: ")][-1]
            return response.status, json.loads(last[6:])["response"]
        return response.status, await response.json()


async def _sweep(gw: Gateway, clock: FakeClock, account: str, root: str | None) -> int | None:
    """Bare tasks (every third one streamed), continuing ``root`` when given; the number
    served before the account was acted on (None: never)."""
    tasks = [p.text for p in load_prompts("harvest", ["harvest_gsm8k.jsonl"], full=False)]
    rng = random.Random(3)
    for n, task in enumerate(tasks[:TASKS], start=1):
        extra: dict[str, Any] = {"previous_response_id": root} if root else {}
        status, _ = await _respond(gw, account, input=task, stream=n % 3 == 0, **extra)
        clock.advance(rng.uniform(25, 60))
        if status == 403 or await _level(gw, account) >= Level.THROTTLE:
            return n
        assert status in (200, 429), status
    return None


async def test_a_root_ask_reaches_the_bare_tasks_that_continue_it(tmp_path: Path) -> None:
    clock = FakeClock()
    policy = (REPO / "policies" / "default.yaml").read_text()
    async with running_gateway(tmp_path, policy=policy, clock=clock, accounts=ACCOUNTS) as gw:
        status, error = await _respond(
            gw, "chainer", input="2 + 2?", previous_response_id="resp_made_up"
        )
        assert status == 400 and error["error"]["code"] == "previous_response_not_found"
        status, root = await _respond(gw, "chainer", input=ROOT, stream=True)
        assert status == 200 and root["id"]
        control = await _sweep(gw, clock, "control", None)
        chained = await _sweep(gw, clock, "chainer", root["id"])
    print(f"acted on after: chained {chained}, control {control}")
    assert control is None  # bare tasks alone: nothing to act on in 120
    assert chained is not None and chained < TASKS
