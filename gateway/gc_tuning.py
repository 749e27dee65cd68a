"""Garbage collection tuned for a long-running server process.

Python's cyclic collector runs every 700 net container allocations (generation 0) and now
and then walks the whole heap (generation 2). A serving process allocates thousands of
short-lived containers per request (parsed JSON, contexts, charges, tasks) that reference
counting frees anyway, and holds a large heap built at start-up (numpy, numba, the policy,
tables) that never becomes garbage. Measured under the overhead bench's load (``make
bench``: the gateway with the shipped policy), the default collector took about 9 % of the
gateway process's CPU, about 100 µs per request, most of it walks of the start-up heap.

:func:`tune_for_serving`, called once the process is ready to serve:

* collects once, then **freezes** what survives (``gc.freeze``): start-up objects move to a
  permanent generation that collections no longer walk;
* raises the generation-0 threshold to :data:`GEN0_THRESHOLD` so that most short-lived
  containers are freed by reference counting before a collection ever looks at them
  (a collection of that many young objects takes a few milliseconds: far below a request's
  latency budget, and rare).

Cycles are still collected: only how often, and over which objects, changes. The price:
start-up objects that later become cyclic garbage (the first policy version's, after a
reload) are never collected; they are freed by reference counting when not in a cycle, and
the loss is bounded by what existed at start-up, once.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 100


def tune_for_serving() -> None:
    """Collect, freeze the survivors, and raise the thresholds (see the module docstring).
    Call it in the serving process, after start-up, not in a library or a test process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
