"""Distributors' POS and inventory files into the hub: see docs/ARCHITECTURE.md."""
