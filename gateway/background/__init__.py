"""Off-path work: tracked fire-and-forget tasks (tasks); the hot path never waits for them."""
