"""Budgets: the store interface, its implementations and the key layout.

* :mod:`.store`: the ``BudgetStore`` protocol and ``StoreUnavailable``.
* :mod:`gateway.budgets.arithmetic`: the math (GCRA buckets, fixed windows, novelty, leases), pure.
* :mod:`.admission`: request-level rules both stores share (levels, throttle, validation).
* :mod:`.memory`: ``MemoryBudgetStore(clock)``, one process, same semantics as Redis.
* :mod:`.redis_store`: ``RedisBudgetStore(client, clock=None)``, ``lua/acquire.lua`` in one
  round trip (plain Redis or Redis Cluster); :mod:`.codec`, :mod:`.scripts`, :mod:`.slots`
  and :mod:`.batching` (auto-pipelining) serve it.
* :mod:`.resilient`: ``ResilientStore``: every primary call under :mod:`.guard` (deadlines,
  :mod:`.breaker`), fail open on :mod:`.fallback` (``limits``) seeded by :mod:`.seeds`.
* :mod:`.factory`: ``build_backend(url, ...)`` -> ``StoreBackend(budgets, redis, keys, guard)``.
* :mod:`.keys`: the only place Redis key names are built.
"""
