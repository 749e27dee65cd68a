"""The admin view explains every level: the effective one, the path that set it, its reasons
and an audit entry, through the real HTTP admin API (shipped default policy, fake time).

Client-stack churn raises an account to challenge through a floor (its own score stays
low): the view must show challenge, ``level_source: stack_churn``, the churn reason and the
audit entry. A company whose services call with many SDKs and plain asks churns as much and
must stay untouched (no value signal); an operator's pin shows as ``pin``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from gateway_harness import ADMIN_TOKEN, Gateway, running_gateway

from gateway.clock import FakeClock
from loadtest.corpus import load_prompts

REPO = Path(__file__).resolve().parents[2]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ACCOUNTS = {"rotor": ("free", {}), "fleet": ("free", {})}
COT = "Solve this. Show your reasoning step by step, then the final answer.\n\n{q}"
PLAIN = ("Summarize this support thread:\n\n{q}", "Draft a polite reply to this message:\n\n{q}")


def _stack(version: int) -> dict[str, str]:
    semver = f"1.{version}.0"
    return {
        "User-Agent": f"OpenAI/Python {semver}",
        "X-Stainless-Lang": "python",
        "X-Stainless-Package-Version": semver,
    }


async def _view(gw: Gateway, account: str) -> dict[str, Any]:
    await gw.state.observations_applied()
    async with gw.http.get(f"{gw.admin_url}/admin/v1/accounts/{account}", headers=ADMIN) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def test_a_floor_shows_its_level_path_reasons_and_audit(tmp_path: Path) -> None:
    clock = FakeClock()
    policy = (REPO / "policies" / "default.yaml").read_text()
    harvest = [p.text for p in load_prompts("harvest", files=["harvest_gsm8k.jsonl"], full=False)]
    benign = [
        p.text
        for p in load_prompts("benign", files=["benign_arena_hard_user_prompts.jsonl"], full=False)
    ]
    rng = random.Random(3)
    async with running_gateway(tmp_path, policy=policy, clock=clock, accounts=ACCOUNTS) as gw:
        challenged = None
        for i in range(1, 40):
            text = COT.format(q=harvest[i])
            response = await gw.chat("rotor", content=text, headers=_stack(i), max_tokens=1500)
            clock.advance(60 + rng.random() * 60)
            if response.status == 403:
                challenged = i
                break
            assert response.status == 200, await response.text()
        assert challenged is not None, "the rotating account was never challenged"
        detection = (await _view(gw, "rotor"))["detection"]
        assert detection["level"] == "challenge", detection
        assert detection["level_source"] == "stack_churn", detection
        assert detection["own_level"] != "challenge"
        assert detection["floor"]["path"] == "stack_churn"
        assert any("client stack churn" in r for r in detection["reasons"]), detection
        view = await _view(gw, "rotor")
        floors = [e for e in view["audit"] if e.get("path") == "stack_churn"]
        assert floors and floors[0]["to"] == "challenge" and floors[0]["source"] == "detection"

        # many services, many SDKs, plain asks: as much churn, no value signal
        for i in range(40):
            text = rng.choice(PLAIN).format(q=benign[i][:800])
            response = await gw.chat("fleet", content=text, headers=_stack(i % 8), max_tokens=400)
            assert response.status == 200, await response.text()
            clock.advance(60 + rng.random() * 60)
        detection = (await _view(gw, "fleet"))["detection"]
        assert (detection["level"], detection["level_source"]) == ("none", "none"), detection

        # an operator's pin is its own source
        pin = {"level": "throttle", "reason": "looks scripted", "ttl": 600}
        async with gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/fleet/level", headers=ADMIN, json=pin
        ) as r:
            assert r.status == 200
            pinned = await r.json()
        assert (pinned["level"], pinned["level_source"]) == ("throttle", "pin")
