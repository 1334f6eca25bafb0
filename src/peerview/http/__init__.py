"""HTTP concerns around the features: the one middleware layer, /metrics and /api/health."""
