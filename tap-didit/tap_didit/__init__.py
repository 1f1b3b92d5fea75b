"""tap-didit: a Singer tap for Didit's audit-grade data."""
