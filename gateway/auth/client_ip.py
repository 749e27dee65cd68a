"""The client's IP address, and the network prefix the clusters linker groups by.

``X-Forwarded-For`` and ``Forwarded`` (RFC 7239) are believed only when the socket peer is a
trusted proxy. The list is walked from the right (the hop nearest to us) and the first address
that is not itself a trusted proxy is the client; anything to its left was written by the
client and may be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = ["TrustedProxies", "client_ip", "ip_prefix", "parse_ip"]


@lru_cache(maxsize=16_384)  # a pure function of the text, called once or more per request
def parse_ip(text: str) -> IPAddress | None:
    """An address from a bare IP, ``ip:port``, ``[v6]`` or ``[v6]:port``; None if invalid.

    IPv4-mapped IPv6 addresses (``::ffff:192.0.2.1``) become IPv4.
    """
    s = text.strip().strip('"').strip()
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            return None
        s = s[1:end]
    elif s.count(":") == 1:  # IPv4 with a port
        s = s.split(":", 1)[0]
    s = s.split("%", 1)[0]  # an IPv6 zone id says nothing about the client
    try:
        addr = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The networks whose forwarding headers are believed."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, cidrs: Iterable[str]) -> TrustedProxies:
        """From CIDR strings (``10.0.0.0/8``, ``::1``); raises ValueError on a bad one."""
        return cls(tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs))

    def __contains__(self, addr: object) -> bool:
        if not isinstance(addr, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return any(addr.version == n.version and addr in n for n in self.networks)


def _split_quoted(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes (RFC 7230 quoted-string, with backslashes).

    Text with an unbalanced quote is split on every ``sep``: a stray quote the client wrote
    on the left must not swallow the hops trusted proxies appended after it."""
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    if quoted:
        return text.split(sep)
    parts.append("".join(buf))
    return parts


def _forwarded_for(values: Iterable[str]) -> list[str]:
    """The ``for=`` node of each RFC 7239 element, in order ('' when an element has none)."""
    nodes: list[str] = []
    for value in values:
        for element in _split_quoted(value, ","):
            if not element.strip():
                continue
            node = ""
            for pair in _split_quoted(element, ";"):
                name, sep, val = pair.partition("=")
                if sep and name.strip().lower() == "for":
                    node = val.strip().strip('"').replace("\\", "")
            nodes.append(node)
    return nodes


def _header_values(headers: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(headers, "getall", None)  # multidict (aiohttp): every occurrence
    if getall is not None:
        return [str(v) for v in getall(name, [])]
    for key, value in headers.items():
        if key.lower() == name.lower():
            return [value]
    return []


def _chain(headers: Mapping[str, str]) -> list[str]:
    forwarded = _header_values(headers, "Forwarded")
    if forwarded:
        return _forwarded_for(forwarded)
    return [p.strip() for v in _header_values(headers, "X-Forwarded-For") for p in v.split(",")]


def client_ip(peer_ip: str, headers: Mapping[str, str], trusted: TrustedProxies) -> str:
    """The client address for a request from socket peer ``peer_ip``.

    ``Forwarded`` is preferred over ``X-Forwarded-For`` when a trusted peer sends both. A hop
    that is missing, ``unknown`` or obfuscated ends the walk: the last trusted hop is returned.
    """
    if not trusted.networks:
        return _peer_text(peer_ip)
    peer = parse_ip(peer_ip)
    if peer is None:
        return peer_ip
    if peer not in trusted:
        return _text(peer)
    current = peer
    for hop in reversed(_chain(headers)):
        addr = parse_ip(hop)
        if addr is None:
            break
        current = addr
        if addr not in trusted:
            break
    return _text(current)


@lru_cache(maxsize=16_384)
def _text(addr: IPAddress) -> str:
    return str(addr)


@lru_cache(maxsize=16_384)
def _peer_text(peer_ip: str) -> str:
    """A peer address in its canonical text (no trusted proxies: the client's own); the
    peers of a process recur, so it is parsed once per address, not per request."""
    peer = parse_ip(peer_ip)
    return peer_ip if peer is None else _text(peer)


@lru_cache(maxsize=16_384)
def ip_prefix(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of ``ip``, e.g. ``203.0.113.0/24``; '' if invalid."""
    addr = parse_ip(ip)
    if addr is None:
        return ""
    bits = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))
