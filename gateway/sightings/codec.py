"""The sighting codec: one served request, as detection and linking see it, in compact bytes.

Version 2 is the JSON array ``[2, identity, cluster_id, cluster_size, fingerprint, features,
now, limited, stored]`` (``stored``: the ref the answer is stored under at the provider,
:mod:`gateway.fingerprints.chain`); version 1, the same without ``stored``, is still read (a
worker upgraded first reads what gateways not yet upgraded append; a worker of version 1 counts
a version 2 sighting as unreadable: upgrade workers first). ``identity``, ``fingerprint`` and
``features`` are objects of field name -> value, read off the dataclass fields of
:class:`~gateway.model.Identity`, :class:`~gateway.model.Fingerprint` and
:class:`~gateway.model.RequestFeatures`: a field added there travels without an edit here. A
value equal to its field's default is left out (most features are), and a decoder fills in the
default of a name it does not see and ignores a name it does not know, so gateways and workers
one version apart understand each other. A new layout gets a new version number; an unknown
version is a :class:`SightingError` (the worker counts it and acknowledges the entry: it can
never be read).

No prompt text: a fingerprint holds hashes, counts and lexicon term ids. What an identity
carries is concealed before encoding (:func:`gateway.sightings.observer.conceal`).
"""

from __future__ import annotations

import dataclasses
import operator
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson

from gateway.detection.batch import Sighting
from gateway.memo import BoundedMemo
from gateway.model import Fingerprint, Identity, RequestFeatures

VERSION = 2
_PARTS = {1: 8, 2: 9}  # the parts of each version read
T = TypeVar("T")
_MEMO = 4_096  # encoded values remembered per class (then forgotten all at once)
_MEMO_CHARS = 512  # only values whose strings are this short in all (a client's long model
# name, say, is encoded every time: the memory stays bounded whatever a client sends)


class SightingError(ValueError):
    """Bytes that are no sighting this codec reads (unknown version, malformed)."""


class _Fields:
    """How one dataclass goes to a JSON object and back (from its fields, once).

    ``memo``: the class's values recur (a caller's concealed identity, a client's request
    features: the same instances, see :func:`gateway.fingerprints.request.request_features`),
    so the encoding of each instance seen lately is kept (by identity, the instance held)."""

    def __init__(self, cls: type[Any], *, memo: bool = False) -> None:
        self.cls = cls
        self._memo: BoundedMemo[int, tuple[Any, dict[str, Any]]] | None = (
            BoundedMemo(_MEMO) if memo else None
        )
        hints = typing.get_type_hints(cls)
        self.names = tuple(f.name for f in dataclasses.fields(cls))
        self.defaults: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                self.defaults[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                self.defaults[f.name] = f.default_factory()
        self.tuples = frozenset(n for n in self.names if typing.get_origin(hints[n]) is tuple)
        self.mappings = frozenset(
            n for n in self.names if typing.get_origin(hints[n]) in (dict, Mapping)
        )
        # per field, in order: (name, has a default, the default, a mapping); every value
        # read in one call
        self._plan = tuple(
            (n, n in self.defaults, self.defaults.get(n), n in self.mappings) for n in self.names
        )
        getter = operator.attrgetter(*self.names)
        self._values = getter if len(self.names) > 1 else (lambda value: (getter(value),))

    def encode(self, value: Any) -> dict[str, Any]:
        """The JSON object of ``value``: every field but those equal to their default."""
        memo = self._memo
        if memo is not None:
            hit = memo.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
        out: dict[str, Any] = {}
        for (name, has_default, default, mapping), field_value in zip(
            self._plan, self._values(value), strict=True
        ):
            if has_default and field_value == default:
                continue
            out[name] = dict(field_value) if mapping else field_value
        if memo is not None and _short(out):
            memo.put(id(value), (value, out))
        return out

    def decode(self, raw: object) -> Any:
        if not isinstance(raw, dict):
            raise SightingError(f"{self.cls.__name__}: expected an object")
        values: dict[str, Any] = {}
        for name in self.names:
            if name not in raw:
                continue  # its default (or a TypeError below, for a required field)
            item = raw[name]
            if name in self.tuples:
                item = tuple(item) if isinstance(item, list) else item
            values[name] = item
        try:
            return self.cls(**values)
        except TypeError as exc:
            raise SightingError(f"{self.cls.__name__}: {exc}") from None


def _short(encoded: dict[str, Any]) -> bool:
    """Whether the strings of an encoded value (its values' and its mappings' keys and
    values) are at most ``_MEMO_CHARS`` long in all."""
    size = 0
    for item in encoded.values():
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, dict):
            size += sum(len(str(k)) + len(str(v)) for k, v in item.items())
    return size <= _MEMO_CHARS


class SightingCodec:
    """``encode(sighting) -> bytes`` and back; stateless, one per process."""

    def __init__(self) -> None:
        self._identity = _Fields(Identity, memo=True)
        self._fingerprint = _Fields(Fingerprint)
        self._features = _Fields(RequestFeatures, memo=True)

    def encode(self, s: Sighting) -> bytes:
        return orjson.dumps(
            [
                VERSION,
                self._identity.encode(s.identity),
                s.cluster_id,
                s.cluster_size,
                self._fingerprint.encode(s.fingerprint),
                self._features.encode(s.features),
                s.now,
                s.limited,
                s.stored,
            ]
        )

    def decode(self, data: bytes, id: str = "") -> Sighting:
        """The sighting of ``data``, with ``id`` (its stable id on the stream)."""
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SightingError(f"not JSON: {exc}") from None
        version = raw[0] if isinstance(raw, list) and raw else None
        parts = _PARTS.get(version) if type(version) is int else None
        if parts is None:
            raise SightingError(f"unknown sighting version {version!r}")
        if len(raw) != parts:
            raise SightingError(f"expected {parts} parts, got {len(raw)}")
        _, identity, cluster_id, cluster_size, fingerprint, features, now, limited = raw[:8]
        stored = raw[8] if parts > 8 else 0
        if type(stored) is not int or stored < 0:
            raise SightingError("stored: expected a non-negative integer")
        if not isinstance(cluster_id, str) or not isinstance(cluster_size, int):
            raise SightingError("cluster id and size: expected a string and an integer")
        if not isinstance(now, int | float) or not isinstance(limited, bool):
            raise SightingError("time and limited: expected a number and a boolean")
        return Sighting(
            identity=self._identity.decode(identity),
            cluster_id=cluster_id,
            cluster_size=cluster_size,
            fingerprint=self._fingerprint.decode(fingerprint),
            features=self._features.decode(features),
            now=float(now),
            limited=limited,
            id=id,
            stored=stored,
        )
