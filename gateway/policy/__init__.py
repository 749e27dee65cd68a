"""Operator policy: schema, loading with file:line errors, resolution, hot reload."""
