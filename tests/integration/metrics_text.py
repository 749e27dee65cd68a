"""Prometheus text from an admin ``/metrics``, as samples by name."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[str, list[tuple[dict[str, str], float]]]


def samples_by_name(text: str) -> Samples:
    """Every sample of ``text``: name -> [(labels, value), ...]."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples
