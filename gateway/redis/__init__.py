"""Redis, for every package that keeps state in it (budgets, clusters, detection, accounts).

* :mod:`.client`: the shared client from a URL (plain, TLS, unix socket, cluster).
* :mod:`.mux`: one auto-pipelined connection for the budget hot path; :mod:`.packing`:
  hiredis command encoding for the pooled connections.
* :mod:`.scripts`: every Lua script, registered by name by the package that owns it
  (``<package>/lua/<name>.lua``), one loading path, called by SHA.
* :mod:`.batch`: many commands of one caller in one pipeline, ``NOSCRIPT`` handled.
* :mod:`.keys`: the only place key names are built (hash-tagged).
* :mod:`.errors`: the one table from redis-py, hiredis and OS errors to the gateway's own
  :mod:`gateway.store_errors`; :mod:`.replies`: reading byte replies.

The store layer (``limiter.redis_store``, ``clusters.graph_redis``,
``clusters.observations_redis``, ``detection.redis_state``, ``accounts.seen``) uses this
package; nothing above it imports a Redis type or exception.
"""
