"""Operating the platform: liveness, readiness, plugin status."""
