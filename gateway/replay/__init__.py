"""``gateway replay``: what a candidate policy would have decided on logged traffic."""
