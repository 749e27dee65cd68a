"""deploy/docker-compose.yaml: the gateways trust X-Forwarded-For from nginx only, the mock's
health check probes the port it listens on, the gateway's environment is valid settings
(with Redis, that includes the link secret), and the detect workers read what the gateways
write."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from gateway.auth.client_ip import TrustedProxies, client_ip
from gateway.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yaml"


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return doc


def _gateway_env() -> dict[str, str]:
    return {k: str(v) for k, v in _compose()["services"]["gateway"]["environment"].items()}


def _nginx_address() -> str:
    address: str = _compose()["services"]["lb"]["networks"]["edge"]["ipv4_address"]
    return address


def test_the_gateway_environment_is_valid_settings() -> None:
    env = _gateway_env()
    assert {k for k in env if k.startswith(ENV_PREFIX)} <= {
        ENV_PREFIX + name.upper() for name in Settings.model_fields
    }
    settings = load_settings(env=env)
    assert settings.store.startswith("redis://") and settings.link_secret


def test_only_nginx_is_a_trusted_proxy() -> None:
    trusted = TrustedProxies.parse(load_settings(env=_gateway_env()).trusted_proxies)
    nginx = _nginx_address()
    forged = "6.6.6.6"  # what a client wrote in its own X-Forwarded-For
    real = "203.0.113.7"  # the address nginx saw, appended by $proxy_add_x_forwarded_for
    headers = {"X-Forwarded-For": f"{forged}, {real}"}
    assert client_ip(nginx, headers, trusted) == real
    # a replica's own network neighbours (other gateways, anything else on `edge`) are not
    # believed: their X-Forwarded-For is ignored and the socket peer is the client
    (pool,) = _compose()["networks"]["edge"]["ipam"]["config"]
    neighbour = str(next(ipaddress.ip_network(pool["ip_range"]).hosts()))
    assert client_ip(neighbour, headers, trusted) == neighbour
    assert ipaddress.ip_address(nginx) not in ipaddress.ip_network(pool["ip_range"])


def test_nginx_appends_the_address_it_saw() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf


def test_the_mock_health_check_probes_the_port_it_listens_on() -> None:
    mock = _compose()["services"]["mock"]
    listen = mock["command"][mock["command"].index("--listen") + 1]
    port = listen.rsplit(":", 1)[1]
    probe = " ".join(mock["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/" in probe
    assert ":8080" not in probe


def test_the_detect_workers_share_the_gateways_store_and_secret() -> None:
    service = _compose()["services"]["detect"]
    env = {k: str(v) for k, v in service["environment"].items()}
    settings, gateway = load_settings(env=env), load_settings(env=_gateway_env())
    assert service["command"] == ["detect"]
    assert (settings.store, settings.store_prefix) == (gateway.store, gateway.store_prefix)
    assert settings.link_secret == gateway.link_secret
    assert settings.sighting_shards == gateway.sighting_shards
    port = settings.detect_address[1]
    assert f"127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"])
    policies = _compose()["services"]["gateway"]["volumes"][1]
    assert policies in service["volumes"]
