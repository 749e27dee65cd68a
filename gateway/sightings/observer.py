"""The settle stage's hand-off: one served request -> one encoded sighting on the stream.

:class:`SightingObserver` is the settle stage's only observer. It builds the sighting,
conceals what the identity carries, encodes it and appends it to the sink (Redis: a deferred
``XADD``; memory: the in-process stream), all without awaiting anything. A request of a
tier with detection off is appended only when account linking can read something of it
(:func:`linking_reads`: soft signals are on, or the caller carries a hard attribute).

Concealed (:func:`conceal`): the linking attributes (org, payment fingerprint, JWT claims)
become keyed digests (BLAKE2b under the link secret: the linker only compares them, and hashes
them again before storing), and the client address becomes the network address of its
linking prefix (/24 or /64: all the linker reads of it). The stream thus holds no raw
linking value, no IP address and no prompt text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from gateway.auth.client_ip import ip_prefix
from gateway.clusters.config import ClustersPolicy
from gateway.detection.batch import Sighting
from gateway.memo import BoundedMemo
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.sightings.codec import SightingCodec

_REMEMBERED = 10_000  # concealed identities kept (then forgotten all at once)


class SightingSink(Protocol):
    def append(self, route: str, data: bytes) -> None: ...

    async def drain(self) -> None: ...


def conceal(identity: Identity, key: bytes) -> Identity:
    """``identity`` with digests for its attributes and a prefix for its address."""
    attrs = {
        name: hashlib.blake2b(
            value.encode("utf-8", "surrogatepass"),
            digest_size=16,
            key=key[:64],
            person=b"dg-sighting-attr",
            salt=hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=16).digest(),
        ).hexdigest()
        for name, value in identity.attrs.items()
    }
    prefix = ip_prefix(identity.client_ip) if identity.client_ip else ""
    return replace(identity, attrs=attrs, client_ip=prefix.split("/", 1)[0])


def linking_reads(policy: ClustersPolicy, identity: Identity) -> bool:
    """Whether the linker can take anything from a sighting of this caller: linking is on
    and either a soft signal is (the template, the address prefix, synchrony: any request
    may carry one) or the caller has a value of a hard attribute (payment, org, device).
    Otherwise the linker would read the sighting and add nothing."""
    if not policy.enabled:
        return False
    if policy.link_on.soft:
        return True
    attrs = identity.attrs
    return bool(attrs) and any(attrs.get(name) for name in policy.link_on.hard)


class SightingObserver:
    def __init__(self, sink: SightingSink, key: bytes, wanted: Callable[[Identity], bool]) -> None:
        """``key``: the link secret's key (digests of attributes); ``wanted(identity)``:
        detection or linking runs for the caller (else nothing is appended)."""
        self.sink = sink
        self._key = key
        self._wanted = wanted
        self._codec = SightingCodec()
        self._concealed: BoundedMemo[tuple[object, ...], Identity] = BoundedMemo(
            _REMEMBERED
        )  # callers seen lately

    def submit(
        self,
        identity: Identity,
        cluster_id: str,
        cluster_size: int,
        fingerprint: Fingerprint,
        features: RequestFeatures,
        now: float,
        *,
        stored: int = 0,
    ) -> bool:
        """``stored``: the ref the answer is stored under (:mod:`gateway.fingerprints.chain`)."""
        if not self._wanted(identity):
            return False
        sighting = Sighting(
            self._conceal(identity),
            cluster_id,
            cluster_size,
            fingerprint,
            features,
            now,
            stored=stored,
        )
        self.sink.append(identity.account_id, self._codec.encode(sighting))
        return True

    def _conceal(self, identity: Identity) -> Identity:
        """:func:`conceal`, remembered for the callers seen lately (two keyed hashes per
        attribute are most of a sighting's cost)."""
        key: tuple[object, ...] = (
            identity.account_id,
            identity.tier,
            identity.client_ip,
            identity.method,
        )
        if identity.attrs:
            key += tuple(sorted(identity.attrs.items()))
        found = self._concealed.get(key)
        if found is None:
            found = self._concealed.put(key, conceal(identity, self._key))
        return found

    async def drain(self) -> None:
        await self.sink.drain()
