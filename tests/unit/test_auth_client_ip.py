"""Client IP from the peer and forwarding headers; network prefixes."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from gateway.auth.client_ip import TrustedProxies, client_ip, ip_prefix, parse_ip

PROXIES = TrustedProxies.parse(["10.0.0.0/8", "2001:db8:ffff::/48"])


def test_untrusted_peer_headers_are_ignored() -> None:
    spoof = {"X-Forwarded-For": "1.2.3.4", "Forwarded": "for=5.6.7.8"}
    assert client_ip("198.51.100.7", spoof, PROXIES) == "198.51.100.7"
    assert client_ip("198.51.100.7", spoof, TrustedProxies()) == "198.51.100.7"


def test_no_proxies_configured_means_the_peer() -> None:
    assert client_ip("10.1.1.1", {"X-Forwarded-For": "1.2.3.4"}, TrustedProxies()) == "10.1.1.1"


def test_trusted_peer_walks_xff_from_the_right() -> None:
    # The client forged "6.6.6.6"; our load balancers (10.x) appended the real hops.
    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.0.0.5"}
    assert client_ip("10.0.0.2", headers, PROXIES) == "203.0.113.9"


def test_all_hops_trusted_gives_the_leftmost() -> None:
    assert client_ip("10.0.0.2", {"X-Forwarded-For": "10.9.9.9, 10.0.0.5"}, PROXIES) == "10.9.9.9"


def test_garbage_hop_stops_at_the_last_trusted_address() -> None:
    headers = {"X-Forwarded-For": "203.0.113.9, not-an-ip, 10.0.0.5"}
    assert client_ip("10.0.0.2", headers, PROXIES) == "10.0.0.5"


def test_repeated_xff_headers_are_concatenated() -> None:
    headers = CIMultiDict([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.4")])
    assert client_ip("10.0.0.2", headers, PROXIES) == "203.0.113.4"


def test_forwarded_header_rfc7239() -> None:
    headers = {
        "Forwarded": 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, '
        "for=10.0.0.9;by=10.0.0.2",
        "X-Forwarded-For": "192.0.2.99",  # Forwarded wins when both are present
    }
    assert client_ip("10.0.0.2", headers, PROXIES) == "2001:db8:cafe::17"
    assert client_ip("10.0.0.2", {"forwarded": "for=192.0.2.60:8080"}, PROXIES) == "192.0.2.60"
    assert client_ip("10.0.0.2", {"Forwarded": "for=unknown"}, PROXIES) == "10.0.0.2"
    assert client_ip("10.0.0.2", {"Forwarded": 'for="_hidden", for=10.0.0.3'}, PROXIES) == (
        "10.0.0.3"
    )


def test_ipv6_peers_and_mapped_ipv4() -> None:
    headers = {"X-Forwarded-For": "2001:db8:1:2::99"}
    assert client_ip("2001:db8:ffff:1::1", headers, PROXIES) == "2001:db8:1:2::99"
    assert client_ip("::ffff:10.0.0.2", {"X-Forwarded-For": "203.0.113.1"}, PROXIES) == (
        "203.0.113.1"
    )
    assert client_ip("::ffff:198.51.100.1", {}, PROXIES) == "198.51.100.1"


@pytest.mark.parametrize(
    ("ip", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("203.0.113.77:443", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]:80", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.200", "192.0.2.0/24"),
        ("nonsense", ""),
        ("", ""),
    ],
)
def test_ip_prefix(ip: str, prefix: str) -> None:
    assert ip_prefix(ip) == prefix


def test_parse_ip_and_bad_cidrs() -> None:
    assert parse_ip("[::1") is None
    assert str(parse_ip(" 192.0.2.1 ")) == "192.0.2.1"
    with pytest.raises(ValueError):
        TrustedProxies.parse(["10.0.0.0/33"])
