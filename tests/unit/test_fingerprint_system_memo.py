"""A recurring system prompt's hash and lexicon evidence are made once (issue 13): the same
fingerprint as made afresh, bounded in count and in the length of what is remembered."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.fingerprints import fingerprint as fingerprint_module
from gateway.fingerprints.fingerprint import Fingerprinter, system_hash

SYSTEM = "You are a patient tutor. Explain your reasoning step by step before the answer."
ASKS = ("What is 17 times 23?", "Why is the sky blue?", "Name three prime numbers.")


def _body(system: str, ask: str) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": ask}],
    }


def test_a_recurring_system_prompt_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = [Fingerprinter().fingerprint(_body(SYSTEM, ask), "chat") for ask in ASKS]
    fp = Fingerprinter()
    scored: list[str] = []
    score = fp.lexicon.score

    def counted(text: str) -> Any:
        scored.append(text)
        return score(text)

    monkeypatch.setattr(fp.lexicon, "score", counted)
    assert [fp.fingerprint(_body(SYSTEM, ask), "chat") for ask in ASKS] == fresh
    assert scored == [SYSTEM]
    assert fresh[0].system == system_hash(SYSTEM) != 0 and fresh[0].system_elicitation > 0


def test_the_remembered_system_prompts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fingerprint_module, "SYSTEMS_REMEMBERED", 4)
    monkeypatch.setattr(fingerprint_module, "SYSTEM_MEMO_CHARS", 100)
    fp = Fingerprinter()
    for i in range(10):
        fp.system_part(f"App {i}: answer briefly.")
    assert len(fp._systems) <= 4
    long = "Be kind. " * 20  # over SYSTEM_MEMO_CHARS: answered, not remembered
    assert fp.system_part(long) == Fingerprinter().system_part(long)
    assert long not in fp._systems
    assert fp.system_part("   ")[0] == 0
