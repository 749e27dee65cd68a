"""The attack corpus, run against one live gateway (see ``live_gateway``).

Every case answers with a 4xx and an OpenAI-style error body (or the documented success),
never a 5xx, never later than its timeout. After the corpus: no credential and no prompt
marker in any captured log line, and every concurrency slot is free again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import cases_auth
import cases_body
import cases_framing
import cases_identity
import cases_paths
import pytest
import pytest_asyncio
from corpus import Case, call, held_slots
from live_gateway import MARKER, Live, live_gateway
from redis_servers import Prefixes

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

CASES: list[Case] = [
    *cases_auth.CASES,
    *cases_framing.CASES,
    *cases_body.CASES,
    *cases_paths.CASES,
    *cases_identity.CASES,
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, prefixes: Prefixes
) -> AsyncIterator[Live]:
    folder = tmp_path_factory.mktemp("corpus")
    async with live_gateway(folder, redis_url, prefixes.new()) as gateway:
        yield gateway


def test_the_corpus_is_large_and_its_names_unique() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 100
    assert len(set(names)) == len(names), "duplicate case names"


@MODULE_LOOP
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_attack(live: Live, case: Case) -> None:
    try:
        await asyncio.wait_for(case.run(live), case.timeout)
    except TimeoutError:
        pytest.fail(f"no answer within {case.timeout}s")


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The log lines holding a secret (or its signature/random part), the secret masked."""
    found: list[str] = []
    for secret in secrets:
        tail = secret.rsplit(".", 1)[-1] if secret.count(".") == 2 else secret[-24:]
        needles = sorted({n for n in (secret, tail) if len(n) >= 16}, key=len, reverse=True)
        for line in text.splitlines():
            if any(needle in line for needle in needles):
                for needle in needles:
                    line = line.replace(needle, "<SECRET>")
                found.append(line[:400])
    return found


def test_the_leak_scanner_finds_what_it_looks_for() -> None:
    secret = "dgk_" + "s3cr3t" * 8
    text = f'{{"event": "x"}}\nDEBUG aiohttp.server bad header: Bearer {secret}\x01\n'
    assert leaks(text, [secret]) == ["DEBUG aiohttp.server bad header: Bearer <SECRET>\x01"]
    assert leaks(text, ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQtMTIzNDU2"]) == []


@MODULE_LOOP
async def test_after_the_corpus_no_secret_or_prompt_in_the_logs(live: Live) -> None:
    # one more request with a credential and a prompt: the capture has a request line to show
    assert (await call(live, "alice")).status == 200
    await asyncio.sleep(0.3)  # background work of the last cases logs too
    text = live.logs.text()
    assert '"event": "request"' in text, "the capture saw no request line"
    found = leaks(text, live.secrets)
    assert not found, "secrets in the logs:\n" + "\n".join(found)
    prompts = [line[:300] for line in text.splitlines() if MARKER in line]
    assert not prompts, "prompt text in the logs:\n" + "\n".join(prompts)


@MODULE_LOOP
async def test_after_the_corpus_every_concurrency_slot_is_free(live: Live) -> None:
    deadline = time.monotonic() + 5
    busy = await held_slots(live)
    while busy and time.monotonic() < deadline:  # settlements are off the hot path
        await asyncio.sleep(0.1)
        busy = await held_slots(live)
    assert busy == {}
