"""Fault drills: ``python -m loadtest.faults [--quick]`` prints one Markdown table.

It starts its own redis-server on a free loopback port, the built-in mock upstream and two
gateway processes (fail open and fail closed, ``GATEWAY_REPLICAS=2``), then, under bounded
load on 127.0.0.1 only:

* kills Redis (SIGKILL, then a restart on the same port) and freezes it (SIGSTOP, then
  SIGCONT): statuses and 5xx during the fault, p50/p99 (and what the fault added to the
  healthy baseline), the slowest request, and the time until budget decisions are made on
  Redis again;
* kills the upstream and hangs it (SIGSTOP), with 0.5 s connect / 1 s read timeouts: the
  statuses clients get (502 / 504) and how fast;
* hangs up on streams after their first bytes (1,000; ``--quick``: 200): concurrency
  slots still held in Redis afterwards.

The whole run takes about a minute (``--quick`` about 35 s, plus start-up).
"""
