"""The gateway's own names for store failures.

Stores (budgets, cluster graph, observations, detection state, accounts seen) raise these,
never a client library's exceptions; :mod:`gateway.redis.errors` maps redis-py, hiredis and
OS errors onto them in one table. Callers above the store layer catch only these.
"""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The store could not be reached or answered an error."""


class ScriptMissing(StoreUnavailable):
    """The server did not know a script by its SHA (restarted or flushed): nothing ran, and
    the same call can be sent again with the script's text."""
