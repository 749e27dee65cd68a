"""The detection evaluation kit: benign personas and harvest strategies driven through a real
in-process gateway (mock upstream, memory store, simulated clock), measured and reported.

``python -m loadtest.detection [--quick] [--policies PATH] [--benign FILE...]
[--harvest FILE...] [--store URL] [--json OUT] [--report DIR]``
"""
