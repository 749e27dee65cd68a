"""Stable 64-bit hashing, vectorised with numpy.

Never Python's ``hash()`` (salted per process). Strings are hashed as arrays of code points
with a polynomial prefix hash modulo 2**64 (numpy ``uint64`` arithmetic wraps), so the hash of
every token or character n-gram of a text is one subtraction and one multiplication away, and
then spread by the MurmurHash3 64-bit finaliser constants. Whole byte strings use blake2b.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.intp]

_MASK64 = (1 << 64) - 1
_BASE = 0x100000001B3  # odd, hence invertible modulo 2**64
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def stable_hash64(data: bytes | str, salt: bytes = b"") -> int:
    """A 64-bit blake2b hash of ``data`` (UTF-8 for ``str``), as an unsigned int."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.blake2b(raw, digest_size=8, person=salt[:16]).digest()
    return int.from_bytes(digest, "little")


def fmix64(h: U64) -> U64:
    """Avalanche 64-bit values (new array, the input is left alone)."""
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


def combine(a: U64, b: U64, tag: int) -> U64:
    """Order-sensitive mix of two hash arrays (bigrams, hash-of-pair)."""
    return fmix64(a * np.uint64(0x9E3779B97F4A7C15) + (b ^ np.uint64(tag & _MASK64)))


def hash_sequence(values: U64) -> int:
    """One 64-bit hash of a sequence of 64-bit values (order matters)."""
    return stable_hash64(np.ascontiguousarray(values, dtype="<u8").tobytes())


class PrefixHasher:
    """Polynomial prefix hashes over arrays of code points.

    ``span(prefix, starts, ends)`` returns the (un-avalanched) hash of every slice
    ``cps[start:end]``, independent of its position in the text.
    """

    def __init__(self, max_len: int) -> None:
        n = max_len + 2
        inv = pow(_BASE, -1, 1 << 64)
        powers = np.full(n, _BASE, dtype=np.uint64)
        powers[0] = 1
        inverse = np.full(n, inv, dtype=np.uint64)
        inverse[0] = 1
        self._pow = np.cumprod(powers)
        self._inv = np.cumprod(inverse)
        self._pow.flags.writeable = False
        self._inv.flags.writeable = False
        self.max_len = max_len

    def prefix(self, cps: npt.NDArray[np.uint8] | npt.NDArray[np.uint32] | U64) -> U64:
        """``out[i]`` = hash of ``cps[:i]``; ``len(out) == len(cps) + 1``."""
        out = np.zeros(len(cps) + 1, dtype=np.uint64)
        np.cumsum(np.multiply(cps, self._pow[: len(cps)], dtype=np.uint64), out=out[1:])
        return out

    def token_hashes(self, cps: npt.NDArray[np.uint8] | npt.NDArray[np.uint32], edges: Ints) -> U64:
        """Avalanched hashes of the tokens ``cps[edges[2i]:edges[2i + 1]]``: equal to
        ``fmix64(span(prefix(cps), starts, ends))``, with fewer temporaries. (``reduceat``
        over the runs between edges is faster below ~300 edges, slower above: not used.)"""
        n = len(cps)
        prefix = np.empty(n + 1, dtype=np.uint64)
        prefix[0] = 0
        np.multiply(cps, self._pow[:n], out=prefix[1:])
        np.cumsum(prefix[1:], out=prefix[1:])
        starts = edges[0::2]
        h = prefix[edges[1::2]]
        h -= prefix[starts]
        h *= self._inv[starts]
        h ^= h >> _S33
        h *= _M1
        h ^= h >> _S33
        h *= _M2
        h ^= h >> _S33
        return h

    def span(self, prefix: U64, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]) -> U64:
        """Position-independent hashes of ``cps[starts[i]:ends[i]]``."""
        raw: U64 = (prefix[ends] - prefix[starts]) * self._inv[starts]
        return raw
