"""Property tests of header parsing into identities: credentials (``Authorization``,
``x-api-key``) and the client address (``X-Forwarded-For``, ``Forwarded``, trusted proxies).

Whatever the headers hold, the result is an identity or the documented 401
``invalid_request_error``; the client address is never taken from a hop the client wrote.
"""

from __future__ import annotations

import asyncio
import ipaddress
import tempfile
import time
from pathlib import Path

import jwt
from hypothesis import example, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from gateway.auth.api_keys import KeyStore, new_key
from gateway.auth.client_ip import TrustedProxies, client_ip, parse_ip
from gateway.auth.identity import Authenticator, credential
from gateway.auth.jwt_auth import JwtConfig, JwtVerifier
from gateway.clock import FakeClock
from gateway.errors import AuthenticationError

SECRET = "property-test-secret-0123456789abcdef"
KEY_SECRET = "property-key-secret"
_KEYS = Path(tempfile.mkdtemp()) / "keys.yaml"
KEY = new_key(_KEYS, "acct_p", "free", {"org_id": "o"}, KEY_SECRET)
TOKEN = jwt.encode({"sub": "user_p", "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")

# header values as aiohttp hands them over: str, with bytes that are not UTF-8 as surrogates
values = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=60),
    st.sampled_from(["", " ", "Bearer", "Bearer ", "bearer  x", "Basic a", "a.b.c", "x.y."]),
    st.builds(lambda s, c: f"{s} {c}", st.sampled_from(["Bearer", "bearer", "Token"]),
              st.sampled_from([KEY, TOKEN, KEY + "x", TOKEN[:-2], "e30.e30.", "a.b.c"])),
)  # fmt: skip
auth_headers = st.dictionaries(
    st.sampled_from(["Authorization", "authorization", "x-api-key", "X-API-Key", "other"]),
    values,
    max_size=3,
)


def _authenticator() -> Authenticator:
    store = KeyStore.load(_KEYS, KEY_SECRET)
    return Authenticator(store, JwtVerifier(JwtConfig(secret=SECRET)), ("10.0.0.0/8",), FakeClock())


@settings(max_examples=300, deadline=None)
@given(auth_headers)
def test_credential_is_a_clean_string_or_a_401(headers: dict[str, str]) -> None:
    try:
        value = credential(headers)
    except AuthenticationError as error:
        assert (error.status, error.type) == (401, "invalid_request_error")
        return
    assert value and value == value.strip()


@settings(max_examples=150, deadline=None)
@given(auth_headers, st.sampled_from(["198.51.100.7", "10.0.0.2", "::1", "", "not-an-ip"]))
@example(headers={"x-api-key": "\udc80"}, peer="198.51.100.7")  # byte 0x80: was a 500
@example(headers={"Authorization": "Bearer k\udcff"}, peer="198.51.100.7")
def test_authenticate_gives_an_identity_or_a_401(headers: dict[str, str], peer: str) -> None:
    auth = _authenticator()

    async def run() -> None:
        try:
            identity = await auth.authenticate(CIMultiDict(headers), peer)
        except AuthenticationError as error:
            assert (error.status, error.type) == (401, "invalid_request_error")
            assert KEY not in error.message and TOKEN not in error.message
            return
        finally:
            await auth.close()
        assert identity.account_id in ("acct_p", "user_p")

    asyncio.run(run())


# addresses, hops and header values for the client-address walk
v4 = st.ip_addresses(v=4).map(str)
v6 = st.ip_addresses(v=6).map(str)
hop = st.one_of(
    v4, v6, v6.map(lambda a: f"[{a}]:443"), v4.map(lambda a: f"{a}:8080"),
    st.sampled_from(["unknown", "_hidden", "", " ", '"', "[", "[::1", "1.2.3", "::ffff:10.0.0.1"]),
    st.text(max_size=12),
)  # fmt: skip
trusted = st.lists(
    st.one_of(
        st.sampled_from(["10.0.0.0/8", "192.0.2.0/24", "::1/128", "2001:db8::/32"]),
        st.ip_addresses().map(lambda a: str(ipaddress.ip_network(a))),
    ),
    max_size=3,
).map(TrustedProxies.parse)


def _xff(hops: list[str]) -> dict[str, str]:
    return {"X-Forwarded-For": ", ".join(hops)}


def _forwarded(hops: list[str]) -> dict[str, str]:
    return {"Forwarded": ", ".join(f'for="{h}"' for h in hops)}


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(v4, v6, st.text(max_size=10)),
    st.lists(hop, max_size=5),
    trusted,
    st.sampled_from([_xff, _forwarded]),
)
def test_client_ip_never_raises_and_is_an_address(
    peer: str, hops: list[str], proxies: TrustedProxies, header: object
) -> None:
    headers = header(hops)  # type: ignore[operator]
    result = client_ip(peer, headers, proxies)
    peer_addr = parse_ip(peer)
    if peer_addr is None:
        assert result == peer
        return
    assert parse_ip(result) is not None
    if peer_addr not in proxies:
        assert result == str(peer_addr)  # an untrusted peer's headers are ignored


@settings(max_examples=300, deadline=None)
@given(
    st.lists(hop, max_size=5),
    st.one_of(v4, v6).filter(lambda a: not ipaddress.ip_address(a).is_private),
    st.sampled_from([_xff, _forwarded]),
)
@example(forged=['"'], real="203.0.113.9", header=_forwarded)  # a stray quote swallowed hops
def test_hops_left_of_the_first_untrusted_one_cannot_be_forged(
    forged: list[str], real: str, header: object
) -> None:
    """Behind a trusted proxy, the hop it appended is the client, whatever came before."""
    proxies = TrustedProxies.parse(["10.0.0.0/8"])
    headers = header([*forged, real])  # type: ignore[operator]
    assert client_ip("10.0.0.2", headers, proxies) == str(parse_ip(real))
