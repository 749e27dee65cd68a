"""The sighting codec's memo (issue 13): a recurring identity or request-features instance
is encoded once, in a bounded memo (the bytes: ``test_sighting_codec``)."""

from __future__ import annotations

from typing import Any

from gateway.model import Fingerprint, Identity, RequestFeatures
from gateway.sightings import codec as codec_module
from gateway.sightings.codec import _Fields


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
    assert fields._memo is not None and len(fields._memo) == 0
    identity = Identity("a", "t", {"org": "x" * 1_000})
    named = _Fields(Identity, memo=True)
    assert named.encode(identity)["attrs"] == {"org": "x" * 1_000}
    assert named._memo is not None and len(named._memo) == 0
