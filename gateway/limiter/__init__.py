"""Budgets: the store interface, its implementations and the key layout."""
