"""Tests of the HTTP courier plugin, and its local test courier (``server.py``), which the
platform's integration tests use too."""
