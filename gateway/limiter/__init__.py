"""Budgets: the store's capabilities and their implementations.

* :mod:`.store`: the ``BudgetStore`` and ``BatchSettlement`` protocols (failures are
  ``gateway.store_errors.StoreUnavailable``).
* :mod:`gateway.budgets.arithmetic`: the math (GCRA buckets, fixed windows, novelty, leases), pure.
* :mod:`.admission`: request-level rules both stores share (levels, throttle, validation).
* :mod:`.memory`: ``MemoryBudgetStore(clock)``, one process, same semantics as Redis.
* :mod:`.redis_store`: ``RedisBudgetStore(client, clock=None)``, ``lua/acquire.lua`` in one
  round trip (plain Redis or Redis Cluster); :mod:`.codec` and :mod:`.slots` serve it, over
  :mod:`gateway.redis` (client, auto-pipelining mux, script registry, key layout, errors).
* :mod:`.resilient`: ``ResilientStore``: every primary call under :mod:`.guard` (deadlines,
  :mod:`.breaker`), fail open on :mod:`.fallback` (``limits``) seeded by :mod:`.seeds`.
* :mod:`.factory`: ``build_backend(url, ...)`` -> ``StoreBackend(budgets, redis, keys, guard)``.
"""
