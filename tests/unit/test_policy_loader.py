"""Loading policies: fixtures, exact error lines, folders, ConfigMap symlinks, versions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from gateway.policy.loader import PolicyError, load_policy, policy_files
from gateway.policy.schema import Policy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "policies"
VALID = sorted(p.name for p in (FIXTURES / "valid").iterdir() if not p.name.startswith("."))
INVALID = sorted(p.name[: -len(".expected")] for p in (FIXTURES / "invalid").glob("*.expected"))
ISSUE = FIXTURES / "valid" / "issue_example.yaml"


@pytest.mark.parametrize("name", VALID)
def test_valid_fixtures_load(name: str) -> None:
    loaded = load_policy(FIXTURES / "valid" / name)
    assert len(loaded.version) == 12 and int(loaded.version, 16) >= 0
    assert loaded.policy.defaults.tier in loaded.policy.tiers


@pytest.mark.parametrize("name", INVALID)
def test_invalid_fixtures_report_exact_messages(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = FIXTURES / "invalid"
    monkeypatch.chdir(folder)  # paths in messages are as given: relative here
    target = name if (folder / name).is_dir() else f"{name}.yaml"
    expected = (folder / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    with pytest.raises(PolicyError) as caught:
        load_policy(target)
    assert caught.value.messages == expected


def test_every_invalid_fixture_has_an_expectation() -> None:
    folder = FIXTURES / "invalid"
    cases = {p.name.removesuffix(".yaml") for p in folder.iterdir() if p.suffix != ".expected"}
    assert cases == set(INVALID)


def test_issue_example_means_what_its_comments_say() -> None:
    policy = load_policy(ISSUE).policy
    free, pro = policy.tiers["free"], policy.tiers["pro"]
    assert policy.defaults.tier == "free" and policy.defaults.failure_mode == "open"
    assert free.requests is not None and free.requests.capacity == 5
    assert free.requests.rate.amount == 5 and free.requests.rate.period == 60
    assert free.tokens is not None and free.tokens.capacity == 4000
    assert free.tokens.rate.per_second == pytest.approx(20000 / 3600)
    assert [q.limit.text for q in free.quotas] == ["200/day"] and free.quotas[0].unit == "requests"
    assert free.concurrency is not None and free.concurrency.limit == 2
    assert pro.mode == "shadow" and pro.requests is not None and pro.requests.capacity == 100
    assert policy.models["gpt-4*"]["free"].tokens is not None


def test_shipped_default_policy_loads_with_its_four_tiers() -> None:
    loaded = load_policy(ROOT / "policies")
    policy = loaded.policy
    assert set(policy.tiers) == {"free", "pro", "enterprise", "evaluation"}
    free = policy.tiers["free"]
    assert free.requests is not None and free.diversity is not None
    assert policy.clusters.link_on.hard == ("payment_fingerprint", "org_id", "device_id")
    assert policy.clusters.hot_value_limit == 50 and policy.clusters.max_size == 5000
    assert policy.detection.enabled


def test_error_line_points_at_the_offending_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    lines = ["version: 1", "tiers:", "  free:"] + ["    # padding"] * 8
    lines.append("    requests: 5 per minute")  # line 12, as in the issue
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    assert caught.value.messages == [
        f'{path}:12: tiers.free.requests: expected "N/period" such as "5/minute", '
        'got "5 per minute"'
    ]


def test_version_ignores_spelling_and_file_split(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text(
        "version: 1\ntiers:\n  free: {requests: 5/minute}\n  pro: {requests: 60/minute}\n"
    )
    split = tmp_path / "split"
    split.mkdir()
    (split / "a.yaml").write_text(
        "# comment\nversion: 1\ntiers:\n  free:\n    requests:\n      rate: 5/minute\n"
    )
    (split / "b.yaml").write_text("tiers: {pro: {requests: 60/minute}}\n")
    assert load_policy(one).version == load_policy(split).version
    one.write_text(
        "version: 1\ntiers:\n  free: {requests: 6/minute}\n  pro: {requests: 60/minute}\n"
    )
    assert load_policy(one).version != load_policy(split).version


def test_configmap_layout_follows_symlinks_and_ignores_dot_entries(tmp_path: Path) -> None:
    data = tmp_path / "..2026_01_01_00_00_00.000000001"
    data.mkdir()
    (data / "tiers.yaml").write_text("version: 1\ntiers:\n  free: {requests: 5/minute}\n")
    (data / "models.yaml").write_text("models:\n  'gpt-4*': {free: {tokens: 100/hour}}\n")
    os.symlink(data.name, tmp_path / "..data")
    for name in ("tiers.yaml", "models.yaml"):
        os.symlink(f"..data/{name}", tmp_path / name)
    (tmp_path / ".hidden.yaml").write_text("not: [valid\n")
    given = str(tmp_path)
    files, errors = policy_files(given)
    assert errors == []
    assert files == [os.path.join(given, "models.yaml"), os.path.join(given, "tiers.yaml")]
    loaded = load_policy(given)
    assert set(loaded.policy.models) == {"gpt-4*"}
    assert loaded.sources == tuple(files)


def test_missing_paths_empty_folders_and_broken_links(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(str(tmp_path / "nope.yaml"))
    assert caught.value.messages == [f"{tmp_path / 'nope.yaml'}: no such file or directory"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PolicyError) as caught:
        load_policy(str(empty))
    assert caught.value.messages == [f"{empty}: no policy files (*.yaml, *.yml) in this folder"]
    os.symlink("gone.yaml", empty / "policy.yaml")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(empty))
    assert caught.value.messages == [f"{empty / 'policy.yaml'}: broken symlink"]


def test_syntax_errors_of_every_file_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\ntiers: [free\n")
    (tmp_path / "b.yaml").write_text("tiers:\n  free: {requests: 5/minute\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(tmp_path))
    paths = [message.split(":", 1)[0] for message in caught.value.messages]
    assert paths == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    assert all("invalid YAML" in message for message in caught.value.messages)


def test_direct_validation_also_runs_the_whole_document_checks() -> None:
    data = yaml.safe_load(ISSUE.read_text())
    data["defaults"]["tier"] = "gold"
    with pytest.raises(ValidationError, match='unknown tier "gold"'):
        Policy.model_validate(data)
