"""The sighting codec: every sighting survives a round trip, the format is versioned, a field
added to a model type travels without codec edits, and what the stream carries is concealed
(no raw linking attribute, no IP address, no prompt text)."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.clusters.config import ClustersPolicy
from gateway.detection.batch import Sighting
from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.sightings.codec import SightingCodec, SightingError, _Fields
from gateway.sightings.observer import SightingObserver, conceal, linking_reads

U64 = st.integers(min_value=0, max_value=2**64 - 1)
TEXT = st.text(max_size=20)
FLOAT = st.floats(allow_nan=False, allow_infinity=False, width=64)

identities = st.builds(
    Identity,
    account_id=st.text(min_size=1, max_size=30),
    tier=st.none() | TEXT,
    attrs=st.dictionaries(TEXT, TEXT, max_size=4),
    client_ip=st.sampled_from(["", "203.0.113.7", "2001:db8::1", "127.0.0.1"]),
    method=st.sampled_from(["api_key", "jwt"]),
)
fingerprints = st.builds(
    Fingerprint,
    exact=U64,
    skeleton=U64,
    simhash=U64,
    bands=st.tuples(*[st.integers(0, 2**16 - 1)] * 4),
    cell=st.integers(0, 2**20),
    system=U64,
    words=st.integers(0, 10_000),
    est_tokens=st.integers(0, 10**6),
    elicitation=st.floats(0, 1),
    elicitation_terms=st.lists(TEXT, max_size=4).map(tuple),
    frame=U64,
    system_elicitation=st.floats(0, 1),
    product=st.floats(0, 1),
)
features = st.builds(
    RequestFeatures,
    endpoint=st.sampled_from(["chat", "completions", "embeddings", "other"]),
    model=TEXT,
    stream=st.booleans(),
    include_usage=st.booleans(),
    max_tokens=st.none() | st.integers(0, 10**6),
    n=st.integers(1, 8),
    logprobs=st.booleans(),
    top_logprobs=st.none() | st.integers(0, 20),
    logit_bias=st.booleans(),
    turns=st.integers(1, 50),
    retry_count=st.integers(0, 5),
    trace_schema=st.integers(0, 2**16 - 1),
    worked_history=st.integers(0, 2**16 - 1),
    reasoning=st.booleans(),
    resample=st.booleans(),
    parent=st.integers(0, (1 << 48) - 1),
)
sightings = st.builds(
    Sighting,
    identity=identities,
    cluster_id=st.text(min_size=1, max_size=30),
    cluster_size=st.integers(1, 10_000),
    fingerprint=fingerprints,
    features=features,
    now=FLOAT,
    limited=st.booleans(),
    stored=st.integers(0, (1 << 48) - 1),
)


@settings(max_examples=300, deadline=None)
@given(sightings)
def test_every_sighting_survives_a_round_trip(sighting: Sighting) -> None:
    codec = SightingCodec()
    assert codec.decode(codec.encode(sighting)) == sighting


def _by_name(value: object) -> dict[str, object]:
    """A model's encoding as the codec defines it: each field by name, defaults left out."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        if f.default is not dataclasses.MISSING and item == f.default:
            continue
        if f.default_factory is not dataclasses.MISSING and item == f.default_factory():
            continue
        out[f.name] = dict(item) if isinstance(item, dict) else item
    return out


@settings(max_examples=150, deadline=None)
@given(sightings)
def test_the_encoding_is_each_field_by_name_remembered_or_not(sighting: Sighting) -> None:
    """The codec reads a model's fields in one call and encodes a recurring identity or
    features instance once (issue 13): the bytes of reading every field by name."""
    codec, s = SightingCodec(), sighting
    identity, fingerprint, features = (_by_name(v) for v in (s.identity, s.fingerprint, s.features))
    head = [2, identity, s.cluster_id, s.cluster_size, fingerprint, features]
    expected = orjson.dumps([*head, s.now, s.limited, s.stored])
    assert codec.encode(s) == expected
    assert codec.encode(s) == expected  # the identity and features remembered


def _sighting(**identity: object) -> Sighting:
    fields = {"account_id": "acct-1", "tier": "free", **identity}
    return Sighting(
        Identity(**fields),  # type: ignore[arg-type]
        "acct-1",
        1,
        Fingerprint(1, 2, 3, (4, 5, 6, 7), 8, 0, 12, 40, 0.0),
        RequestFeatures("chat", "gpt-x"),
        1_700_000_000.25,
    )


def test_defaults_are_left_out_so_a_plain_sighting_is_compact() -> None:
    data = SightingCodec().encode(_sighting())
    for default in (b"retry_count", b"logprobs", b"method", b"attrs", b"frame", b"stream"):
        assert default not in data, data


def test_an_unknown_version_or_malformed_bytes_are_refused() -> None:
    codec = SightingCodec()
    raw = orjson.loads(codec.encode(_sighting()))
    for version in (3, 0, "2", None, True):
        with pytest.raises(SightingError, match="version"):
            codec.decode(orjson.dumps([version, *raw[1:]]))
    with pytest.raises(SightingError, match="parts"):
        codec.decode(orjson.dumps([1, *raw[1:]]))  # version 1 has no stored ref
    with pytest.raises(SightingError, match="stored"):
        codec.decode(orjson.dumps([*raw[:8], -1]))
    with pytest.raises(SightingError):
        codec.decode(b"not json")
    with pytest.raises(SightingError):
        codec.decode(orjson.dumps([1, {}, "c", 1, {}, {}, 0.0, False]))  # required fields


def test_a_decoder_ignores_names_it_does_not_know_and_fills_defaults() -> None:
    codec = SightingCodec()
    raw = orjson.loads(codec.encode(_sighting(method="jwt")))
    raw[5]["a_field_from_a_newer_gateway"] = 3
    del raw[1]["method"]  # an older gateway that did not send it: the default
    decoded = codec.decode(orjson.dumps(raw))
    assert decoded.features == RequestFeatures("chat", "gpt-x")
    assert decoded.identity.method == "api_key"


def test_structure_features_travel_and_an_older_entry_reads_without_them() -> None:
    codec = SightingCodec()
    grown = RequestFeatures("chat", "gpt-x", trace_schema=513, worked_history=9, reasoning=True)
    sighting = dataclasses.replace(_sighting(), features=grown)
    raw = orjson.loads(codec.encode(sighting))
    assert raw[5] == {
        "endpoint": "chat",
        "model": "gpt-x",
        "trace_schema": 513,
        "worked_history": 9,
        "reasoning": True,
    }
    assert codec.decode(orjson.dumps(raw)) == sighting
    # an entry already on the stream, written before these features existed
    old = orjson.dumps(
        [1, raw[1], "acct-1", 1, raw[4], {"endpoint": "chat", "model": "m"}, 1.0, False]
    )
    assert codec.decode(old).features == RequestFeatures("chat", "m")
    assert codec.decode(old).stored == 0


def test_a_stored_ref_and_a_parent_travel() -> None:
    codec = SightingCodec()
    chained = RequestFeatures("chat", "gpt-x", parent=0xABCDEF123456)
    sighting = dataclasses.replace(_sighting(), features=chained, stored=0x123456ABCDEF)
    raw = orjson.loads(codec.encode(sighting))
    assert raw[0] == 2 and raw[8] == 0x123456ABCDEF and raw[5]["parent"] == 0xABCDEF123456
    assert codec.decode(orjson.dumps(raw)) == sighting


def test_a_field_added_to_a_model_type_travels_without_codec_edits() -> None:
    @dataclasses.dataclass(frozen=True)
    class Grown:
        endpoint: str
        model: str
        added_later: tuple[int, ...] = ()

    fields = _Fields(Grown)
    value = Grown("chat", "m", (1, 2))
    encoded = orjson.loads(orjson.dumps(fields.encode(value)))
    assert encoded == {"endpoint": "chat", "model": "m", "added_later": [1, 2]}
    assert fields.decode(encoded) == value


def test_conceal_keeps_no_raw_attribute_and_no_address() -> None:
    identity = Identity(
        "acct-1", "free", {"org_id": "org-walrus", "payment": "card-1"}, "203.0.113.7"
    )
    hidden = conceal(identity, b"k" * 32)
    assert set(hidden.attrs) == {"org_id", "payment"}
    assert "org-walrus" not in hidden.attrs.values()
    assert hidden.client_ip == "203.0.113.0"  # the linker's /24, nothing finer
    assert hidden.attrs == conceal(identity, b"k" * 32).attrs  # stable: linking still works
    assert hidden.attrs != conceal(identity, b"j" * 32).attrs  # keyed
    other_name = conceal(Identity("a", None, {"payment": "org-walrus"}), b"k" * 32)
    assert other_name.attrs["payment"] != hidden.attrs["org_id"]  # per attribute name
    assert conceal(Identity("a", None, client_ip="127.0.0.1"), b"k").client_ip == "127.0.0.0"


class _Sink:
    def __init__(self) -> None:
        self.appended: list[tuple[str, bytes]] = []

    def append(self, route: str, data: bytes) -> None:
        self.appended.append((route, data))

    async def drain(self) -> None:
        return None


def test_the_observer_appends_concealed_sightings_of_wanted_callers_only() -> None:
    sink = _Sink()
    observer = SightingObserver(sink, b"k" * 32, lambda identity: identity.tier == "free")
    s = _sighting(attrs={"org_id": "org-walrus"}, client_ip="198.51.100.9")
    args = (s.cluster_id, s.cluster_size, s.fingerprint, s.features, s.now)
    assert observer.submit(s.identity, *args)
    assert not observer.submit(dataclasses.replace(s.identity, tier="paid"), *args)
    assert [route for route, _ in sink.appended] == ["acct-1"]
    data = sink.appended[0][1]
    assert b"org-walrus" not in data and b"198.51.100.9" not in data
    assert SightingCodec().decode(data).identity == conceal(s.identity, b"k" * 32)


def test_linking_reads_a_sighting_only_when_it_can_link_on_something() -> None:
    """Detection off: a sighting is worth appending for linking when soft signals are on, or
    when the caller carries a value of a hard attribute; never with linking off."""
    plain = Identity("a", "free", client_ip="198.51.100.9")
    org = dataclasses.replace(plain, attrs={"org_id": "org-walrus", "team": "x"})
    empty_org = dataclasses.replace(plain, attrs={"org_id": ""})
    shipped = ClustersPolicy()
    hard_only = ClustersPolicy.model_validate({"link_on": {"soft": []}})
    off = ClustersPolicy.model_validate({"enabled": False})
    assert linking_reads(shipped, plain) and linking_reads(shipped, org)
    assert linking_reads(hard_only, org)
    assert not linking_reads(hard_only, plain) and not linking_reads(hard_only, empty_org)
    assert not linking_reads(hard_only, dataclasses.replace(plain, attrs={"team": "x"}))
    assert not linking_reads(off, org)
