"""SimHash and its bands: within Hamming distance 3 always share a band."""

from __future__ import annotations

import random

import numpy as np

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.hashing import fmix64
from gateway.fingerprints.simhash import bands, hamming, ngram_features, ngram_simhash, simhash
from loadtest.corpus import load_prompts


def test_distance_at_most_three_shares_a_band() -> None:
    rng = random.Random(11)
    for _ in range(5000):
        a = rng.getrandbits(64)
        flips = rng.sample(range(64), rng.randint(0, 3))
        b = a
        for bit in flips:
            b ^= 1 << bit
        assert hamming(a, b) == len(flips)
        assert any(x == y for x, y in zip(bands(a), bands(b), strict=True))


def test_distance_four_can_miss_every_band() -> None:
    a = 0
    b = (1 << 0) | (1 << 16) | (1 << 32) | (1 << 48)  # one flip in each band
    assert hamming(a, b) == 4
    assert not any(x == y for x, y in zip(bands(a), bands(b), strict=True))


def test_bands_rebuild_the_value() -> None:
    value = random.Random(3).getrandbits(64)
    b = bands(value)
    assert b[0] | b[1] << 16 | b[2] << 32 | b[3] << 48 == value


def test_simhash_is_a_majority_vote_of_feature_bits() -> None:
    feats = fmix64(np.arange(1, 101, dtype=np.uint64))
    value = simhash(feats)
    for bit in range(64):
        ones = int(((feats >> np.uint64(bit)) & np.uint64(1)).sum())
        assert bool(value >> bit & 1) == (ones * 2 > len(feats))
    assert simhash(np.zeros(0, dtype=np.uint64)) == 0


def test_similar_feature_sets_give_close_simhashes() -> None:
    base = fmix64(np.arange(1, 301, dtype=np.uint64))
    near = base.copy()
    near[:15] = fmix64(np.arange(1000, 1015, dtype=np.uint64))  # 5 % of features changed
    far = fmix64(np.arange(5000, 5300, dtype=np.uint64))
    assert hamming(simhash(base), simhash(near)) < 12 < hamming(simhash(base), simhash(far))


def test_bigram_features_depend_on_order() -> None:
    h = fmix64(np.arange(1, 4, dtype=np.uint64))
    forward = ngram_features(h)
    backward = ngram_features(h[::-1].copy())
    assert len(forward) == 5
    assert set(forward[:3].tolist()) == set(backward[:3].tolist())
    assert set(forward[3:].tolist()).isdisjoint(backward[3:].tolist())


def test_the_compiled_ngram_simhash_equals_simhash_of_ngram_features() -> None:
    """``ngram_simhash`` (one compiled pass, byte-lane counters flushed every 255 features)
    equals ``simhash(ngram_features(...))`` on random hashes of every length around the
    flush boundaries, on constant hashes (every count at its most) and on corpus prompts."""
    rng = np.random.default_rng(7)
    cases = [rng.integers(0, 2**64, size=n, dtype=np.uint64) for n in range(0, 300)]
    cases += [rng.integers(0, 2**64, size=n, dtype=np.uint64) for n in (511, 512, 1000, 4000)]
    cases += [np.full(n, 2**64 - 1, dtype=np.uint64) for n in (1, 2, 128, 129, 300)]
    fingerprinter = Fingerprinter()
    cases += [fingerprinter.skeleton_of(p.text).hashes for p in load_prompts(full=False)[:300]]
    for hashes in cases:
        assert ngram_simhash(hashes) == simhash(ngram_features(hashes)), len(hashes)
