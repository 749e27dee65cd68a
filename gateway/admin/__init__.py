"""The admin listener: metrics and the operator API."""
