"""The request log the gateway writes is enough to replay it: replayed against the policy
that wrote it nothing changes; against a stricter one the differences are named."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from gateway_harness import SIMPLE_POLICY, running_gateway
from structlog.testing import capture_logs

from gateway.policy.loader import load_policy
from gateway.replay.compare import compare
from gateway.replay.log import read_log
from gateway.replay.simulate import Replay

SECRET_PROMPT = "the-secret-prompt-text-42"


async def test_logged_traffic_replays_to_the_same_decisions(tmp_path: Path) -> None:
    with capture_logs() as records:
        async with running_gateway(tmp_path / "gw") as gw:
            for i in range(5):  # carol's tier "small": a burst of 3
                await gw.chat("carol", content=f"{SECRET_PROMPT} {i}", max_tokens=16)
            for _ in range(2):
                assert (await gw.chat("alice", content=SECRET_PROMPT)).status == 200
            await gw.state.background.drain()
    lines = [json.dumps(r, default=str) for r in records if r.get("event") == "request"]
    assert len(lines) == 7
    assert not any(SECRET_PROMPT in line for line in lines)
    assert all("usage_out" in line for line in lines if '"decision": "allow"' in line)
    read = read_log(lines)
    same = load_policy(tmp_path / "gw" / "policy.yaml")
    result = compare(read, await Replay(same).run(read.requests))
    assert (result.refusals_before, result.refusals_after) == (2, 2)
    assert (result.now_refused, result.now_admitted) == (0, 0)

    stricter = tmp_path / "strict.yaml"
    text = textwrap.dedent(SIMPLE_POLICY).replace(
        "requests: {rate: 600/minute, burst: 100}", "requests: {rate: 1/minute, burst: 1}"
    )
    stricter.write_text(text)
    result = compare(read, await Replay(load_policy(stricter)).run(read.requests))
    assert result.accounts_newly_refused == ["alice"]
    assert result.by_tier["free"] == [0, 1]
