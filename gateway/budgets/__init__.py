"""Budget kinds: the policy notation of budget sections, and one strategy per kind."""
