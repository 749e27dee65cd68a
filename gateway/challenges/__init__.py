"""Challenges in one package: signed proof-of-work tokens and clearance (tokens), the
HTTP gate that redeems and issues them (gate), and the customer-side solver (client)."""
