"""API keys: generation, hashed storage, lookup, revocation, reload, and the CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from pathlib import Path

import pytest

from gateway.auth import api_keys
from gateway.auth.api_keys import KEY_PREFIX, KeyStore, generate_key, hash_key, new_key
from gateway.auth.keys_cli import main as keys_main
from gateway.auth.keys_file import KeyRecord, KeysFileError, parse_records, read_records
from gateway.clock import FakeClock

_BASE62 = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _decode62(body: str) -> int:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return sum(alphabet.index(c) * 62**i for i, c in enumerate(body))


def test_generated_keys_have_prefix_and_256_bits() -> None:
    keys = [generate_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert key.startswith(KEY_PREFIX)
        body = key[len(KEY_PREFIX) :]
        assert len(body) == 43 and set(body) <= _BASE62
        assert _decode62(body) < 2**256
    # Some key uses the top bits: the encoding really carries 256 random bits.
    assert max(_decode62(k[len(KEY_PREFIX) :]) for k in keys).bit_length() >= 250
    # Low digits are uniform over the alphabet.
    assert len({k[len(KEY_PREFIX)] for k in keys}) == 62


def test_hash_is_hmac_with_secret_else_sha256() -> None:
    key = generate_key()
    assert hash_key(key, None) == ("sha256", hashlib.sha256(key.encode()).hexdigest())
    expected = hmac.new(b"s3cret", key.encode(), hashlib.sha256).hexdigest()
    assert hash_key(key, "s3cret") == ("hmac-sha256", expected)


@pytest.mark.parametrize("secret", [None, "server-secret"])
def test_new_key_stores_only_the_hash_with_0600(tmp_path: Path, secret: str | None) -> None:
    path = tmp_path / "keys.yaml"
    key = new_key(path, "acct_1", "pro", {"org_id": "o1"}, secret, label="ci")
    text = path.read_text()
    assert key not in text and key[len(KEY_PREFIX) :] not in text
    alg, digest = hash_key(key, secret)
    assert digest in text and f"alg: {alg}" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (record,) = read_records(path)
    assert (record.account_id, record.tier, dict(record.attrs), record.label) == (
        "acct_1",
        "pro",
        {"org_id": "o1"},
        "ci",
    )
    assert record.hint.endswith(key[-4:]) and record.id == digest[:12]


def test_lookup_finds_the_record_and_rejects_others(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    k1 = new_key(path, "acct_1", None, {}, "sec")
    k2 = new_key(path, "acct_2", "free", {"device_id": "d"}, None)  # mixed algs in one file
    store = KeyStore.load(path, "sec")
    rec1, rec2 = store.lookup(k1), store.lookup(k2)
    assert rec1 is not None and rec1.account_id == "acct_1" and rec1.alg == "hmac-sha256"
    assert rec2 is not None and rec2.account_id == "acct_2" and rec2.attrs == {"device_id": "d"}
    assert store.lookup(k1[:-1] + ("a" if k1[-1] != "a" else "b")) is None
    assert store.lookup("") is None
    assert store.lookup("x" * 10_000) is None
    # Without the secret an HMAC record can never match.
    assert KeyStore.load(path, None).lookup(k1) is None
    assert KeyStore.load(path, "other").lookup(k1) is None


def test_lookup_compares_the_full_hash_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    _, digest = hash_key(key, None)
    impostor = KeyRecord(id="x", alg="sha256", hash=digest[:16] + "0" * 48, account_id="evil")
    assert impostor.hash != digest
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert KeyStore([impostor]).lookup(key) is None  # same index prefix, different hash
    assert calls == [(impostor.hash, digest)]
    genuine = KeyRecord(id="y", alg="sha256", hash=digest, account_id="good")
    found = KeyStore([impostor, genuine]).lookup(key)
    assert found is not None and found.account_id == "good"


def test_disabled_and_revoked_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"  # JSON is valid YAML: hand-written files work too
    key = generate_key()
    _, digest = hash_key(key, None)
    record = {"alg": "sha256", "hash": digest, "account": "a", "disabled": True}
    path.write_text(json.dumps({"keys": [record]}))
    assert KeyStore.load(path).lookup(key) is None
    live = new_key(path, "b", None, {}, None)
    assert KeyStore.load(path).lookup(live) is not None
    assert api_keys.revoke_keys(path, account="b") == 1
    assert KeyStore.load(path).lookup(live) is None
    assert api_keys.revoke_keys(path, account="b") == 0


def test_a_verified_key_is_not_hashed_again_until_the_keys_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.yaml"
    key = new_key(path, "a", None, {}, "s3cret")
    clock = FakeClock()
    store = KeyStore.load(path, "s3cret", clock=clock)
    hashed: list[str] = []
    real = api_keys._digest

    def counting(k: str, alg: api_keys.HashAlg, secret: str | None) -> str | None:
        hashed.append(k)
        return real(k, alg, secret)

    monkeypatch.setattr(api_keys, "_digest", counting)
    wrong = generate_key()
    for _ in range(3):
        rec = store.lookup(key)
        assert rec is not None and rec.account_id == "a"
        assert store.lookup(wrong) is None
    assert hashed == [key, wrong, wrong, wrong]  # unknown keys are hashed every time
    api_keys.revoke_keys(path, account="a")
    clock.advance(1.01)
    assert store.lookup(key) is None  # the reload forgot it: hashed again, and refused
    assert hashed[-1] == key


def test_store_reloads_when_the_file_changes_at_most_once_per_second(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    first = new_key(path, "a", None, {}, None)
    clock = FakeClock()
    store = KeyStore.load(path, None, clock=clock)
    second = new_key(path, "b", None, {}, None)
    assert store.lookup(second) is None  # not checked yet: no stat on every request
    clock.advance(1.01)
    rec = store.lookup(second)
    assert rec is not None and rec.account_id == "b"
    # A broken file keeps the last good keys.
    path.write_text("keys: [ {broken")
    clock.advance(1.01)
    assert store.lookup(first) is not None
    # An explicit reload picks up a fixed file at once.
    third = new_key(tmp_path / "other.yaml", "c", None, {}, None)
    path.write_text((tmp_path / "other.yaml").read_text())
    assert store.reload() is True
    assert store.lookup(third) is not None and store.lookup(first) is None


def test_malformed_records_name_the_problem() -> None:
    with pytest.raises(KeysFileError, match=r"keys\[0\].*hash"):
        parse_records("keys:\n- {hash: nothex, account: a}\n")
    with pytest.raises(KeysFileError, match="account"):
        parse_records(f"keys:\n- {{hash: '{'a' * 64}'}}\n")
    assert parse_records("") == ()


def test_cli_new_list_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "keys.yaml")
    monkeypatch.setenv("GATEWAY_KEY_SECRET", "cli-secret")
    argv = ["keys", "new", "--account", "acct_9", "--tier", "pro", "--keys-file", path]
    assert keys_main([*argv, "--attr", "org_id=o9", "--attr", "device_id=d=1"]) == 0
    out = capsys.readouterr().out
    key = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("key: "))
    assert "account: acct_9" in out
    rec = KeyStore.load(path, "cli-secret").lookup(key)
    assert rec is not None and rec.alg == "hmac-sha256"
    assert dict(rec.attrs) == {"org_id": "o9", "device_id": "d=1"}

    assert keys_main(["keys", "list", "--keys-file", path]) == 0
    listing = capsys.readouterr().out
    assert "acct_9" in listing and "active" in listing
    assert key not in listing and rec.hash not in listing

    assert keys_main(["keys", "revoke", "--id", rec.id, "--keys-file", path]) == 0
    assert KeyStore.load(path, "cli-secret").lookup(key) is None
    assert "revoked" in (capsys.readouterr().out)
    assert keys_main(["keys", "revoke", "--id", "nope", "--keys-file", path]) == 1
