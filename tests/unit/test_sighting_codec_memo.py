"""The sighting codec's fast encoding (issue 13): the same bytes as reading every field by
name, and a recurring identity or request-features instance is encoded once."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.detection.batch import Sighting
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.sightings import codec as codec_module
from gateway.sightings.codec import SightingCodec, _Fields

U64 = st.integers(min_value=0, max_value=2**64 - 1)
TEXT = st.text(max_size=12)
identities = st.builds(
    Identity,
    account_id=st.text(min_size=1, max_size=20),
    tier=st.none() | TEXT,
    attrs=st.dictionaries(TEXT, TEXT, max_size=3),
    client_ip=st.sampled_from(["", "203.0.113.0"]),
)
fingerprints = st.builds(
    Fingerprint,
    exact=U64,
    skeleton=U64,
    simhash=U64,
    bands=st.tuples(*[st.integers(0, 2**16 - 1)] * 4),
    cell=st.integers(0, 2**20),
    system=U64 | st.just(0),
    words=st.integers(0, 10_000),
    est_tokens=st.integers(0, 10**6),
    elicitation=st.floats(0, 1),
    elicitation_terms=st.lists(TEXT, max_size=3).map(tuple),
    frame=U64 | st.just(0),
    product=st.floats(0, 1),
)
features = st.builds(
    RequestFeatures,
    endpoint=st.sampled_from(["chat", "completions"]),
    model=TEXT,
    stream=st.booleans(),
    max_tokens=st.none() | st.integers(0, 10**6),
    n=st.integers(1, 3),
    top_logprobs=st.none() | st.integers(0, 20),
    turns=st.integers(1, 5),
    client_stack=U64 | st.just(0),
    continued=st.integers(0, 3),
)


def _by_name(value: Any) -> dict[str, Any]:
    """The encoding as the codec defines it: each field by name, defaults left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if f.default is not dataclasses.MISSING and item == f.default:
            continue
        if f.default_factory is not dataclasses.MISSING and item == f.default_factory():
            continue
        out[f.name] = dict(item) if isinstance(item, dict) else item
    return out


@settings(max_examples=150, deadline=None)
@given(identity=identities, fingerprint=fingerprints, feats=features)
def test_the_encoding_is_each_field_by_name(
    identity: Identity, fingerprint: Fingerprint, feats: RequestFeatures
) -> None:
    codec = SightingCodec()
    sighting = Sighting(identity, "c", 2, fingerprint, feats, 12.5)
    expected = orjson.dumps(
        [1, _by_name(identity), "c", 2, _by_name(fingerprint), _by_name(feats), 12.5, False]
    )
    assert codec.encode(sighting) == expected
    assert codec.encode(sighting) == expected  # remembered: the same again
    assert codec.decode(expected) == sighting


def test_a_recurring_instance_is_encoded_once(monkeypatch: Any) -> None:
    fields = _Fields(RequestFeatures, memo=True)
    feats = RequestFeatures("chat", "m", max_tokens=64)
    first = fields.encode(feats)
    assert fields.encode(feats) is first
    equal = RequestFeatures("chat", "m", max_tokens=64)  # equal, another instance
    assert fields.encode(equal) == first and fields.encode(equal) is not first
    plain = _Fields(Fingerprint)  # fingerprints do not recur: nothing remembered
    fp = Fingerprint(1, 2, 3, (0, 0, 0, 0), 4, 0, 5, 6, 0.0)
    assert plain.encode(fp) == plain.encode(fp) and plain.encode(fp) is not plain.encode(fp)
    monkeypatch.setattr(codec_module, "_MEMO", 3)
    small = _Fields(RequestFeatures, memo=True)
    for i in range(10):
        small.encode(RequestFeatures("chat", "m", max_tokens=i))
    assert small._memo is not None and len(small._memo) <= 3


def test_a_value_with_long_strings_is_not_remembered() -> None:
    fields = _Fields(RequestFeatures, memo=True)
    long = RequestFeatures("chat", "m" * 5_000)
    assert fields.encode(long) == {"endpoint": "chat", "model": "m" * 5_000}
    assert fields._memo == {}
    identity = Identity("a", "t", {"org": "x" * 1_000})
    named = _Fields(Identity, memo=True)
    assert named.encode(identity)["attrs"] == {"org": "x" * 1_000} and named._memo == {}
