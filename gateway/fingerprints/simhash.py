"""64-bit SimHash over hashed features, and its 16-bit bands.

Four bands of 16 bits: two fingerprints within Hamming distance 3 differ in at most three
bands, so they share at least one (pigeonhole). A band value is an O(1) near-duplicate key.
"""

from __future__ import annotations

import numpy as np

from gateway.fingerprints.hashing import U64

BANDS = 4
BAND_BITS = 16
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_LANE_MAX = 255  # features summed per uint8 lane
_CHUNKS = np.arange(0, 1 << 20, _LANE_MAX, dtype=np.intp)  # first feature of each chunk
_CHUNKS.flags.writeable = False


def ngram_features(hashes: U64) -> U64:
    """Word 1-grams and 2-grams of a token-hash sequence."""
    if len(hashes) < 2:
        return hashes
    # tokens hashes are avalanched: the xor of two odd multiples is as good as a re-mix
    return np.concatenate((hashes, (hashes[:-1] * _K1) ^ (hashes[1:] * _K2)))


def simhash(features: U64) -> int:
    """Bit k is set when more than half the features have bit k set (0 for no features)."""
    n = len(features)
    if n == 0:
        return 0
    raw = np.ascontiguousarray(features, dtype="<u8").view(np.uint8)
    # one byte per feature bit; eight of them side by side in a uint64 are eight counters
    # that a sum over up to 255 features fills without carries
    lanes = np.unpackbits(raw, bitorder="little").view("<u8").reshape(n, 8)
    chunks = np.add.reduceat(lanes, _CHUNKS[: -(-n // _LANE_MAX)], axis=0).view(np.uint8)
    counts = chunks if len(chunks) == 1 else chunks.sum(axis=0)
    packed = np.packbits(counts > (n >> 1), bitorder="little")  # count * 2 > n
    return int.from_bytes(packed.tobytes(), "little")


def bands(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands, low bits first."""
    m = (1 << BAND_BITS) - 1
    return (value & m, (value >> 16) & m, (value >> 32) & m, (value >> 48) & m)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
