"""Load tests, benchmarks and the evaluation kit's data (prompt corpora)."""
