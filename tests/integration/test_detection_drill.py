"""Live drill: the shipped ``policies/`` detection and cluster config, through the real gateway
(HTTP on loopback, in process, simulated clock), budgets made generous so only detection acts.

Two populations share the gateway, as in production:

* an unlinked paraphrasing squad: 10 accounts, each its own /24 and client stack, no payment,
  org or device, every ask its own paraphrase of a benchmark task (reasoning request often in
  the system prompt), fired in waves ~40 minutes apart with 10 s - 10 min of jitter per member.
  Each member must be acted on (throttle or above, a detection 403, or a degraded answer)
  within its first 60 requests.
* one app template run by 6 unrelated customer accounts: the product's step-by-step system
  prompt, real users' varied questions, a steady machine rate, 120 requests each. None of
  them may ever be challenged or blocked.

The attackers were written from the README, the policy reference and the gateway's answers,
not from the detector.
"""

from __future__ import annotations

import heapq
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway_harness import Gateway, running_gateway

from gateway.clock import FakeClock
from gateway.model import Level
from loadtest.corpus import load_prompts
from loadtest.detection.pace import chat
from loadtest.detection.policy import evaluation_document, read_document
from loadtest.detection.redteam_harvest import harvest_body
from loadtest.detection.redteam_personas import APPS
from loadtest.detection.stacks import client_stack

REPO = Path(__file__).resolve().parents[2]
SQUAD = [f"squad-{i:02d}" for i in range(10)]
APP = [f"app-customer-{i}" for i in range(6)]
SQUAD_LIMIT = 60  # requests per member within which it must be acted on
APP_REQUESTS = 120
WAVE = 40 * 60.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DETECTION_403 = {"challenge_required", "account_blocked", "verification_required"}

pytestmark = pytest.mark.drill


def _policy() -> str:
    """The shipped policy folder with generous budgets (``loadtest.detection.policy``)."""
    return yaml.safe_dump(evaluation_document(read_document(REPO / "policies")), sort_keys=False)


def _timeline(rng: random.Random) -> list[tuple[float, str, dict[str, Any]]]:
    """(time, account, body) of every request of both populations, in time order."""
    harvest = [p.text for p in load_prompts("harvest", ["harvest_gsm8k.jsonl"], full=False)]
    users = [
        p.text for p in load_prompts("benign", ["benign_arena_hard_user_prompts.jsonl"], full=False)
    ]
    rng.shuffle(harvest)
    events: list[tuple[float, str, dict[str, Any]]] = []
    tasks = iter(harvest * 3)
    wave = 0.0
    for _ in range(SQUAD_LIMIT):
        wave += WAVE * rng.uniform(0.5, 1.5)
        for member in SQUAD:
            events.append((wave + rng.uniform(10, 600), member, harvest_body(rng, next(tasks))))
    system, max_tokens = APPS[0]
    for customer in APP:
        t = 2 * 3600.0 + rng.uniform(0, 60)
        for _ in range(APP_REQUESTS):
            body = chat([rng.choice(users)], system=system, max_tokens=max_tokens)
            events.append((t, customer, body))
            t += 60 * rng.uniform(0.67, 1.33)
    heapq.heapify(events)
    return [heapq.heappop(events) for _ in range(len(events))]


async def _applied_level(gw: Gateway, account: str) -> Level:
    """The level the budget script applies to ``account`` now (its own or its cluster's)."""
    state = gw.state
    await state.observations_applied()
    info = await state.clusters.get(account)
    keys, budgets = state.backend.keys, state.backend.budgets
    own = await budgets.get_level(keys.account_level(info.cluster_id, account))
    cluster = await budgets.get_level(keys.cluster_level(info.cluster_id))
    return Level(max(own, cluster))


async def test_unlinked_squad_is_acted_on_and_app_template_is_never_challenged(
    tmp_path: Path,
) -> None:
    rng = random.Random(14)
    accounts: dict[str, tuple[str, dict[str, str]]] = {n: ("pro", {}) for n in SQUAD + APP}
    ips = {name: f"10.{40 + i}.{7 * i % 250}.{1 + i}" for i, name in enumerate(SQUAD + APP)}
    stacks = {name: client_stack(rng) for name in SQUAD + APP}
    clock = FakeClock(START)
    squad_acted: dict[str, int] = {}
    app_refused: dict[str, list[str]] = {name: [] for name in APP}
    sent = dict.fromkeys(SQUAD + APP, 0)
    async with running_gateway(
        tmp_path,
        policy=_policy(),
        clock=clock,
        accounts=accounts,
        trusted_proxies=("127.0.0.0/8", "::1/128"),
    ) as gw:
        for t, account, body in _timeline(rng):
            clock.set(max(clock.now(), START + t))
            if account in squad_acted:
                continue  # acted on: this member is done (counted at its first action)
            level = await _applied_level(gw, account)
            headers = {**stacks[account], **gw.auth(account), "X-Forwarded-For": ips[account]}
            async with gw.http.post(
                f"{gw.url}/v1/chat/completions", json=body, headers=headers
            ) as response:
                status, payload = response.status, await response.json()
                degraded = "x-gateway-degraded" in response.headers
            sent[account] += 1
            code = str((payload.get("error") or {}).get("code") or "")
            if account in SQUAD:
                if level >= Level.THROTTLE or degraded or code in DETECTION_403:
                    squad_acted[account] = sent[account]
            elif status == 403 or level >= Level.CHALLENGE:
                app_refused[account].append(f"request {sent[account]}: {status} {code} {level}")
    assert all(sent[name] == APP_REQUESTS for name in APP), sent
    failures = []
    missed = sorted(set(SQUAD) - set(squad_acted))
    if missed:
        failures.append(f"squad members not acted on within {SQUAD_LIMIT} requests: {missed}")
    challenged = {name: hits[0] for name, hits in app_refused.items() if hits}
    if challenged:
        failures.append(f"app-template accounts challenged or blocked (first): {challenged}")
    print(f"squad acted on at request: {squad_acted}")
    assert not failures, "\n".join(failures)
