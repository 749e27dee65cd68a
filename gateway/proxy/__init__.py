"""The request path: pipeline stages, the streaming forwarder, usage settlement."""
