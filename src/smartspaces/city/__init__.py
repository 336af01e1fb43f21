"""The city model: infrastructure assets, the spaces they serve, and their dependencies."""
