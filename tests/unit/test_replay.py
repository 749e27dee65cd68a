"""``gateway replay``: a synthetic request log replayed against candidate policies."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gateway.apis import CHAT_COMPLETIONS, EMBEDDINGS
from gateway.cli import main
from gateway.policy.loader import load_policy
from gateway.replay.compare import Comparison, compare
from gateway.replay.log import read_log
from gateway.replay.simulate import Replay, _context

T0 = 1_767_225_600.0


def _policy(tmp_path: Path, name: str, free: str) -> Path:
    path = tmp_path / name / "policy.yaml"
    path.parent.mkdir()
    path.write_text(
        textwrap.dedent(
            f"""
            version: 1
            defaults: {{tier: free, max_tokens: 500}}
            tiers:
              free: {free}
              pro:
                requests: {{rate: 600/minute, burst: 100}}
            detection: {{enabled: false}}
            clusters: {{enabled: false}}
            """
        )
    )
    return path


def _line(account: str, at: float, decision: str = "allow", **extra: Any) -> str:
    record: dict[str, Any] = {
        "event": "request",
        "level": "info",
        "request_id": f"{account}-{at}",
        "account": account,
        "cluster": account,
        "cluster_size": 1,
        "tier": "free",
        "path": "/v1/chat/completions",
        "model": "gpt-x",
        "endpoint": "chat",
        "status": 200 if decision == "allow" else 429,
        "decision": decision,
        "reason": "admitted" if decision == "allow" else "budget account:requests exhausted",
        "at": T0 + at,
        "prompt_tokens": 10,
        "max_tokens": None,
        "n": 1,
        "total_ms": 50.0,
    }
    if decision == "allow":
        record.update(usage_in=10, usage_out=20)
    record.update(extra)
    return json.dumps(record)


def _log() -> list[str]:
    lines = ['{"event": "gateway_started", "level": "info"}', "not json at all"]
    lines += [_line("steady", i * 0.1) for i in range(5)]  # 5 quick requests, all served
    lines += [_line("greedy", 1 + i * 0.1) for i in range(5)]
    lines += [_line("greedy", 2 + i * 0.1, "refuse") for i in range(3)]  # the log refused 3
    lines += [_line("pro-user", 3 + i * 0.1, tier="pro") for i in range(8)]
    lines.append(_line("blocked", 4, "block", reason="level block"))
    lines.append(json.dumps({"event": "request", "account": "old", "status": 200}))  # no "at"
    return lines


async def _replay(policy: Path, lines: list[str]) -> Comparison:
    read = read_log(lines)
    return compare(read, await Replay(load_policy(policy)).run(read.requests))


def test_a_replayed_request_carries_the_api_of_its_logged_kind() -> None:
    chat, embeddings = read_log([_line("a", 0.0), _line("b", 0.0, endpoint="embeddings")]).requests
    assert _context(chat, "free", 0).api is CHAT_COMPLETIONS
    ctx = _context(embeddings, "free", 1)
    assert ctx.api is EMBEDDINGS and ctx.endpoint == "embeddings"


async def test_the_policy_that_wrote_the_log_changes_nothing(tmp_path: Path) -> None:
    same = _policy(tmp_path, "same", "{requests: {rate: 5/hour, burst: 5}}")
    result = await _replay(same, _log())
    assert (result.refusals_before, result.refusals_after) == (3, 3)
    assert (result.now_refused, result.now_admitted) == (0, 0)
    assert result.accounts_newly_refused == result.accounts_no_longer_refused == []
    assert (result.skipped_lines, result.unreplayable, result.detection) == (2, 1, 1)
    assert result.requests == 22


async def test_a_stricter_policy_refuses_more_and_names_who(tmp_path: Path) -> None:
    strict = _policy(tmp_path, "strict", "{requests: {rate: 3/hour, burst: 3}}")
    result = await _replay(strict, _log())
    # steady: 2 of 5 refused now; greedy: 2 more of its 5 served (its 3 refusals stay)
    assert result.by_budget == {"account:requests": [3, 7]}
    assert result.by_tier == {"free": [3, 7]}
    assert result.now_refused == 4 and result.now_admitted == 0
    assert result.accounts_newly_refused == ["steady"]
    assert result.clusters_newly_refused == ["steady"]
    assert "pro-user" not in result.accounts_newly_refused  # its tier did not change


async def test_a_looser_policy_admits_what_the_log_refused(tmp_path: Path) -> None:
    loose = _policy(tmp_path, "loose", "{requests: {rate: 100/hour, burst: 100}}")
    result = await _replay(loose, _log())
    assert result.refusals_after == 0 and result.now_admitted == 3
    assert result.accounts_no_longer_refused == ["greedy"]
    assert result.clusters_no_longer_refused == ["greedy"]


async def test_tokens_are_settled_with_real_usage_and_slots_released(tmp_path: Path) -> None:
    # reservation 10 + 500 (default max_tokens) = 510 of a 1000-token burst; real usage 30:
    # after settlement every request fits, without it the second in flight would not
    tokens = _policy(tmp_path, "tokens", "{tokens: {rate: 1/hour, burst: 1000}, concurrency: 1}")
    sequential = [_line("t", i * 1.0) for i in range(10)]  # 50 ms each: never overlapping
    result = await _replay(tokens, sequential)
    assert result.refusals_after == 0
    slots = _policy(tmp_path, "slots", "{concurrency: 1}")
    overlapping = [_line("c", 0.0, total_ms=5000.0), _line("c", 1.0), _line("c", 6.0)]
    result = await _replay(slots, overlapping)  # the 2nd arrives while the 1st runs
    assert result.by_budget == {"account:concurrency": [0, 1]}


def test_cli_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strict = _policy(tmp_path, "strict", "{requests: {rate: 3/hour, burst: 3}}")
    log = tmp_path / "requests.jsonl"
    log.write_text("\n".join(_log()) + "\n")
    assert main(["replay", "--policies", str(strict), "--log", str(log), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["refusals"] == {"before": 3, "after": 7}
    assert out["accounts"]["newly_refused"] == ["steady"]
    assert main(["replay", "--policies", str(strict), "--log", str(log)]) == 0
    text = capsys.readouterr().out
    assert "accounts newly refused (1): steady" in text
