"""The hot path's shared connection over TLS (``rediss://``): a real redis-server with a TLS
port and a throwaway CA made here."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.asyncio import Redis
from redis_servers import RedisServer, free_port

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.keys import KeyBuilder
from gateway.redis.mux import Endpoint, Multiplexer
from gateway.redis.scripts import Script

pytestmark = pytest.mark.redis


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_pki(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1: (ca.pem, server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("test ca"))
        .issuer_name(_name("test ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def test_budget_checks_over_tls(tmp_path: Path) -> None:
    ca, cert, key = _write_pki(tmp_path)
    tls_port = free_port()
    args = ["--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
            "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"]  # fmt: skip
    with RedisServer(args=args) as server:
        assert server.running
        url = f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={ca}"
        client = Redis.from_url(url)
        endpoint = Endpoint.of(client)
        assert endpoint.ssl is not None and endpoint.port == tls_port
        mux = Multiplexer(endpoint)
        store = RedisBudgetStore(client, FakeClock())
        spec = BudgetSpec(
            "r", "account", "requests", "bucket", KeyBuilder("tls").account_budget("a", "a", "r"),
            limit=2, window=60, rate=2,
        )  # fmt: skip
        try:
            assert await mux.run(Script("t", "return ARGV[1]"), 0, ["over tls"]) == b"over tls"
            results = [
                await store.acquire(AcquireRequest(f"r{i}", (Charge(spec),))) for i in range(3)
            ]
            assert [r.allowed for r in results] == [True, True, False]
            untrusted = Multiplexer(Endpoint.of(Redis.from_url(f"rediss://127.0.0.1:{tls_port}/0")))
            with pytest.raises(OSError):  # the system CA store does not know our CA
                await untrusted.execute("PING")
        finally:
            await mux.aclose()
            await store.close()
