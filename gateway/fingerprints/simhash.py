"""64-bit SimHash over hashed features, and its 16-bit bands.

Four bands of 16 bits: two fingerprints within Hamming distance 3 differ in at most three
bands, so they share at least one (pigeonhole). A band value is an O(1) near-duplicate key.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.fingerprints.compiled import compiled
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


def _byte_lanes() -> U64:
    """Per byte value, its 8 bits spread over the 8 bytes of a uint64 (bit k -> byte k)."""
    lanes = np.zeros(256, dtype=np.uint64)
    for bit in range(8):
        lanes |= ((np.arange(256, dtype=np.uint64) >> np.uint64(bit)) & np.uint64(1)) << np.uint64(
            8 * bit
        )
    lanes.flags.writeable = False
    return lanes


_BYTE_LANES = _byte_lanes()
_U8 = np.uint64(8)
_BYTE = np.uint64(0xFF)


@compiled()
def _ngram_simhash(hashes: Any, lanes: Any) -> Any:  # pragma: no cover - compiled
    """``simhash(ngram_features(hashes))`` in one compiled pass: the 2-grams made on the fly
    and each feature's bits counted eight at a time in byte lanes (``lanes``: a byte's bits
    spread over the bytes of a uint64), as :func:`simhash` counts them."""
    n = len(hashes)
    total = n if n < 2 else 2 * n - 1
    out = np.uint64(0)
    if total == 0:
        return out
    counts = np.zeros(64, dtype=np.int64)
    acc = np.zeros(8, dtype=np.uint64)
    filled = 0
    for j in range(total):
        f = hashes[j] if j < n else (hashes[j - n] * _K1) ^ (hashes[j - n + 1] * _K2)
        for b in range(8):
            acc[b] += lanes[np.intp((f >> (_U8 * np.uint64(b))) & _BYTE)]
        filled += 1
        if filled == _LANE_MAX or j == total - 1:
            for b in range(8):
                for k in range(8):
                    counts[8 * b + k] += np.int64((acc[b] >> (_U8 * np.uint64(k))) & _BYTE)
                acc[b] = np.uint64(0)
            filled = 0
    half = total >> 1
    for k in range(64):
        if counts[k] > half:
            out |= np.uint64(1) << np.uint64(k)
    return out


def ngram_simhash(hashes: U64) -> int:
    """``simhash(ngram_features(hashes))``, the fingerprint's SimHash, in one compiled pass."""
    return int(_ngram_simhash(hashes, _BYTE_LANES))


def bands(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands, low bits first."""
    m = (1 << BAND_BITS) - 1
    return (value & m, (value >> 16) & m, (value >> 32) & m, (value >> 48) & m)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
