"""Partner hospitals and their adapter plugins."""
