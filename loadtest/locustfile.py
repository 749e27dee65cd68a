"""Load-test a deployed gateway with the detection kit's personas (run only under locust).

    DG_API_KEYS=keys.txt locust -f loadtest/locustfile.py --host https://gateway.example

Environment:
  DG_API_KEYS      file with one API key per line; simulated users take them round-robin
                   (give each user its own key: detection works per account)
  DG_TIME_SCALE    simulated seconds per real second (default 60: an hour of think time
                   passes in a minute); 1 replays at real speed
  DG_MAX_GAP       longest real wait between two requests of one user, seconds (default 30;
                   0: no cap). Every user sends its first request at once, whatever the scale
  DG_SCENARIOS     comma-separated personas/strategies (default: every benign persona)
  DG_SPLIT         corpus files to draw prompts from: reporting (default) or tuning

Each locust user plays one account of one persona: it walks the persona's behaviour (the same
generators as ``python -m loadtest.detection``), waits the simulated think time (compressed by
DG_TIME_SCALE, capped by DG_MAX_GAP) and reports answers back to the behaviour, so harvesters
stop at a challenge. Refusals count as failures, named by kind in locust's failures table:
"429 budget", "429 diversity", "403 challenge", "403 block".
Locust is not a dependency of the project; install it where you run the load test.
"""

from __future__ import annotations

import itertools
import os
import time
import zlib
from pathlib import Path
from typing import Any

from locust import HttpUser, task  # only importable where locust is installed

from gateway.model import Level
from loadtest.detection.context import Context
from loadtest.detection.harvest import STRATEGIES
from loadtest.detection.personas import PERSONAS
from loadtest.detection.pools import load_pools
from loadtest.detection.traffic import Account, Outcome
from loadtest.locust_support import Pacer, refusal_kind

START = time.time()
BEHAVIOURS = {**PERSONAS, **STRATEGIES}
SCENARIOS = [s for s in os.environ.get("DG_SCENARIOS", ",".join(PERSONAS)).split(",") if s]
TIME_SCALE = float(os.environ.get("DG_TIME_SCALE", "60"))
MAX_GAP = float(os.environ.get("DG_MAX_GAP", "30"))
KEYS = [k.strip() for k in Path(os.environ.get("DG_API_KEYS", "keys.txt")).read_text().split()]
POOLS = load_pools("tuning" if os.environ.get("DG_SPLIT") == "tuning" else "reporting")
CONTEXT = Context(pools=POOLS, start=START, days=30, cap=3000)
NEXT_USER = itertools.count()


def outcome_of(status: int, payload: dict[str, Any], headers: Any) -> Outcome:
    error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = str(error.get("code") or "")
    return Outcome(
        status=status,
        error_type=str(error.get("type") or ""),
        error_code=code,
        degraded="x-gateway-degraded" in headers,
        retry_after=float(headers.get("retry-after", "0") or 0),
        level=int(Level.CHALLENGE) if code == "challenge_required" else 0,
    )


class PersonaUser(HttpUser):
    """One account playing one persona or harvest strategy."""

    def on_start(self) -> None:
        n = next(NEXT_USER)
        scenario = SCENARIOS[n % len(SCENARIOS)]
        self.key = KEYS[n % len(KEYS)]
        account = Account(
            name=f"{scenario}-{n}",
            scenario=scenario,
            role="harvest" if scenario in STRATEGIES else "benign",
            behaviour_seed=zlib.crc32(f"locust:{n}".encode()),
            client_ip="",
            planned=CONTEXT.cap,
        )
        self.scenario = scenario
        self.behaviour = BEHAVIOURS[scenario](account, CONTEXT)
        self.pending = next(self.behaviour, None)
        self.pacer = Pacer(TIME_SCALE, MAX_GAP, time.time())

    @task
    def step(self) -> None:
        if self.pending is None:
            self.stop()
            return
        when, request = self.pending
        delay = self.pacer.delay(when, time.time())
        if delay > 0:
            time.sleep(delay)  # gevent-patched under locust
        with self.client.post(
            "/v1/chat/completions",
            json=dict(request.body),
            headers={"Authorization": f"Bearer {self.key}"},
            name=f"chat ({self.scenario})",
            catch_response=True,
        ) as response:
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            kind = refusal_kind(response.status_code, payload)
            if kind is not None:
                response.failure(kind)  # counted, and named by kind in the failures table
            outcome = outcome_of(response.status_code, payload, response.headers)
        try:
            self.pending = self.behaviour.send(outcome)
        except StopIteration:
            self.pending = None
