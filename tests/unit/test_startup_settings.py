"""Start-up settings: the example settings file, the link secret, the bundled policy, the
demo's printed commands."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from gateway.app import _link_secret
from gateway.clusters.types import hash_value
from gateway.demo import _banner
from gateway.policy.loader import load_policy
from gateway.settings import Settings, SettingsError, load_settings
from gateway.startup import bundled_policy, policy_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "gateway.yaml"
SETTING_LINE = re.compile(r"^(# )?([a-z_]+):( |$)")


def _example_lines() -> list[tuple[bool, str, str]]:
    """(commented, name, line) of every line that sets a setting."""
    found = []
    for line in EXAMPLE.read_text().splitlines():
        match = SETTING_LINE.match(line)
        if match and match.group(2) in Settings.model_fields:
            found.append((bool(match.group(1)), match.group(2), line))
    return found


def test_example_settings_file_lists_every_setting() -> None:
    named = {name for _, name, _ in _example_lines()}
    assert set(Settings.model_fields) - named == set()


def test_example_settings_file_loads_as_is_and_uncommented(tmp_path: Path) -> None:
    as_is = load_settings(EXAMPLE, env={})
    assert as_is.store == "memory://"
    uncommented = tmp_path / "all.yaml"
    lines, seen = [], set()
    for commented, name, line in _example_lines():
        if name not in seen:  # the first example of each setting
            seen.add(name)
            lines.append(line[2:] if commented else line)
    uncommented.write_text("\n".join(lines) + "\n")
    every = load_settings(uncommented, env={})
    assert every.model_fields_set == set(Settings.model_fields)


def test_link_secret_is_required_with_a_redis_store() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env={"GATEWAY_STORE": "redis://127.0.0.1:6379/0"})
    assert str(err.value) == (
        "invalid settings: link_secret (env GATEWAY_LINK_SECRET) is required with a Redis "
        "store: the same value on every replica"
    )
    ok = load_settings(env={"GATEWAY_STORE": "redis://r:6379/0", "GATEWAY_LINK_SECRET": "s"})
    assert ok.public()["link_secret"] == "***"


def test_link_hashes_are_keyed_by_the_link_secret_not_the_challenge_secret() -> None:
    a = Settings(link_secret="one", challenge_secret="challenge-a")
    b = Settings(link_secret="one", challenge_secret="challenge-b")
    c = Settings(link_secret="two", challenge_secret="challenge-a")
    assert _link_secret(a) == _link_secret(b) == hashlib.sha256(b"one").digest()
    assert hash_value("ip", "10.1.2.3", _link_secret(a)) != hash_value(
        "ip", "10.1.2.3", _link_secret(c)
    )
    assert hash_value("ip", "10.1.2.3", _link_secret(a)) != hash_value("ip", "10.1.2.3")


def test_memory_store_without_link_secret_gets_a_random_key_per_process() -> None:
    settings = Settings()
    first, second = _link_secret(settings), _link_secret(settings)
    assert len(first) == 32 and first != second


def test_bundled_policy_is_the_default_policy_and_loads() -> None:
    assert bundled_policy().read_bytes() == (ROOT / "policies" / "default.yaml").read_bytes()
    assert load_policy(bundled_policy()).policy.version


def test_policy_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert policy_source(Settings()) == str(bundled_policy())  # default, missing
    assert policy_source(Settings(policies="policies")) == "policies"  # explicit: kept
    (tmp_path / "policies").mkdir()
    assert policy_source(Settings()) == "policies"  # default, present


def test_demo_prints_the_running_interpreter() -> None:
    text = _banner("http://h:1", "http://h:2", "k1", "k2", "t")
    assert f"  {sys.executable} - <<'PY'" in text
    assert "\n  python " not in text
