"""What the gateway knows about an account outside its budgets: when it was last seen."""
