"""Process settings: file + env (env wins), one-line errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import SettingsError, load_settings


def test_defaults_and_env_override_file(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("listen: 127.0.0.1:9000\nupstream: http://inference:8000/\nworkers: 2\n")
    settings = load_settings(config, env={"GATEWAY_LISTEN": "0.0.0.0:7000"})
    assert settings.listen_address == ("0.0.0.0", 7000)  # env wins
    assert settings.upstream == "http://inference:8000"  # from the file, normalised
    assert settings.workers == 2
    assert settings.store == "memory://"


def test_lists_from_env() -> None:
    settings = load_settings(
        env={
            "GATEWAY_JWT_ALGORITHMS": "RS256, ES256",
            "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1/32",
        }
    )
    assert settings.jwt_algorithms == ("RS256", "ES256")
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.1/32")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GATEWAY_LISTEN": "abc"},
            "invalid setting listen (env GATEWAY_LISTEN): expected host:port such as "
            "127.0.0.1:8080, got 'abc'",
        ),
        (
            {"GATEWAY_STORE": "mysql://x"},
            "invalid setting store (env GATEWAY_STORE): expected memory:// or "
            "redis://host:port/db, got 'mysql://x'",
        ),
        (
            {"GATEWAY_UPSTREAM": "ftp://x"},
            "invalid setting upstream (env GATEWAY_UPSTREAM): expected an http:// or https:// "
            "URL, got 'ftp://x'",
        ),
        (
            {"GATEWAY_TRUSTED_PROXIES": "not-a-cidr"},
            "invalid setting trusted_proxies (env GATEWAY_TRUSTED_PROXIES): expected CIDRs such "
            "as 10.0.0.0/8, got 'not-a-cidr'",
        ),
        ({"GATEWAY_LOG_FORMAT": "xml"}, "invalid setting log_format (env GATEWAY_LOG_FORMAT)"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_unknown_key_in_file_and_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("listn: 127.0.0.1:9000\n")
    with pytest.raises(SettingsError, match=r"invalid setting listn .*unknown setting"):
        load_settings(config, env={})
    with pytest.raises(SettingsError, match=r"config file .*nope\.yaml"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_public_view_masks_secrets() -> None:
    settings = load_settings(env={"GATEWAY_ADMIN_TOKEN": "s3cret", "GATEWAY_JWT_SECRET": "k"})
    public = settings.public()
    assert public["admin_token"] == "***" and public["jwt_secret"] == "***"
    assert "s3cret" not in str(public)
