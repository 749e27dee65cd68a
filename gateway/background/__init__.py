"""Off-path work: a bounded batching queue (batches) and tracked fire-and-forget tasks
(tasks); the hot path never waits for either."""
