"""How the fingerprint's per-character passes are compiled: numba (a prebuilt wheel, LLVM
inside; no build toolchain at install time), without the GIL, cached on disk where a cache
can be written.

numba looks for its cache in ``NUMBA_CACHE_DIR`` (the container image sets ``/tmp/numba``:
its root file system is read-only), then in ``__pycache__`` beside the source, then in the
user's cache folder. Where none can be written, the passes are compiled in memory at every
start instead (a few seconds) rather than not at all. Each pass is compiled for every kind
of text when the ``Skeletonizer`` is built (see ``skeleton._WARM_UP``), never mid-request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])


def compiled(**options: Any) -> Callable[[F], F]:
    """``@compiled()``: the function compiled by numba (``options`` as ``numba.njit``'s)."""

    def wrap(func: F) -> F:
        try:
            done: F = njit(cache=True, nogil=True, **options)(func)
        except RuntimeError:  # "cannot cache function": no writable cache location
            done = njit(nogil=True, **options)(func)
        return done

    return wrap
