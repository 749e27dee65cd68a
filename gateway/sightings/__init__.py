"""Sightings: what the gateway tells detection and linking about each served request.

The settle stage appends one compact sighting per served request (``observer.py``, encoded by
``codec.py``) to a sharded Redis stream (``sink_redis.py``); ``gateway detect`` workers read it
with a consumer group (``source_redis.py``), apply batches (``apply.py``) in a loop
(``worker.py``) and acknowledge them. With the memory store the same loop runs in-process on
``source.MemoryStream``.
"""
