"""Harvest detection: detector state, families, risk scorer, engine, proof-of-work challenges."""
