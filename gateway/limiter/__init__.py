"""Budgets: the store interface, its implementations and the key layout.

* :mod:`.store`: the ``BudgetStore`` protocol and ``StoreUnavailable``.
* :mod:`.token_bucket`: the math (GCRA buckets, fixed windows, novelty, leases), pure.
* :mod:`.admission`: request-level rules both stores share (levels, throttle, validation).
* :mod:`.memory`: ``MemoryBudgetStore(clock)``, one process, same semantics as Redis.
* :mod:`.redis_store`: ``RedisBudgetStore(client, clock=None)``, ``lua/acquire.lua`` in one
  round trip (plain Redis or Redis Cluster); :mod:`.codec`, :mod:`.scripts`, :mod:`.slots`
  and :mod:`.batching` (auto-pipelining) serve it.
* :mod:`.resilient`: ``ResilientStore``: timeouts, :mod:`.breaker`, fail-open fallback.
* :mod:`.factory`: ``build_backend(url, ...)`` -> ``StoreBackend(budgets, redis, keys)``.
* :mod:`.keys`: the only place Redis key names are built.
"""
